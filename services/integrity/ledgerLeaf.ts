import { canonicalize } from '../../schema/crypto/jcs';
import { leafHash } from '../../schema/merkle';

/** What one leaf of the ledger's Merkle tree commits to: one ledgered event at one place in the append order. */
export interface LedgerLeaf {
  leafIndex: number;
  eventId: string;
  /** SHA-256 (hex) of the JCS form of the whole signed envelope: its content, signer, chain link and signature. */
  eventHash: string;
  /** SHA-256 (hex) of the exact bytes received from Kafka. */
  rawSha256: string;
}

export const LEAF_VERSION = 1;

/**
 * The leaf's data: UTF-8 of JCS({v: 1, leafIndex, eventId, eventHash, rawSha256}). The leaf hash is then
 * SHA-256(0x00 || data) (RFC 6962). Binding the index makes a moved leaf a different leaf, and a leaf self-describing
 * in a proof; binding both hashes means neither the parsed event nor the received bytes can change unseen.
 */
export function ledgerLeafData(leaf: LedgerLeaf): Uint8Array {
  return new TextEncoder().encode(
    canonicalize({ v: LEAF_VERSION, leafIndex: leaf.leafIndex, eventId: leaf.eventId, eventHash: leaf.eventHash, rawSha256: leaf.rawSha256 }),
  );
}

export function ledgerLeafHash(leaf: LedgerLeaf): Uint8Array {
  return leafHash(ledgerLeafData(leaf));
}
