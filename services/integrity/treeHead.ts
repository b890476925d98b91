import { canonicalize } from '../../schema/crypto/jcs';
import { verify, SIGNATURE_LENGTH } from '../../schema/crypto/ed25519';
import { decode as b64uDecode, encode as b64uEncode } from '../../schema/crypto/base64url';
import type { LedgerPublicKey, LedgerSigningKey } from './ledgerKey';

/** Domain separation: the ledger key signs nothing else, and if it ever does, a tree head cannot be mistaken for it. */
export const TREE_HEAD_TYPE = 'intent-ledger/tree-head';

export interface TreeHeadBody {
  logId: string;
  treeSize: number;
  rootHash: string; // hex
  timestamp: string; // RFC 3339 UTC, milliseconds
}

export interface SignedTreeHead extends TreeHeadBody {
  keyId: string;
  signature: string; // unpadded base64url Ed25519
}

/** The signed bytes: UTF-8 of JCS({v: 1, type, logId, treeSize, rootHash, timestamp}). */
export function treeHeadStatement(body: TreeHeadBody): Uint8Array {
  return new TextEncoder().encode(
    canonicalize({ v: 1, type: TREE_HEAD_TYPE, logId: body.logId, treeSize: body.treeSize, rootHash: body.rootHash, timestamp: body.timestamp }),
  );
}

export function signTreeHead(body: TreeHeadBody, key: LedgerSigningKey): SignedTreeHead {
  const statement = { logId: body.logId, treeSize: body.treeSize, rootHash: body.rootHash, timestamp: body.timestamp };
  return { ...statement, keyId: key.keyId, signature: b64uEncode(key.sign(treeHeadStatement(statement))) };
}

export type TreeHeadCheck = { ok: true } | { ok: false; problem: 'TREE_HEAD_UNTRUSTED_KEY' | 'TREE_HEAD_SIG_INVALID'; detail: string };

/** Is this head signed by the trusted ledger key? Never throws. */
export function checkTreeHeadSignature(head: SignedTreeHead, trusted: LedgerPublicKey): TreeHeadCheck {
  if (head.keyId !== trusted.keyId) {
    return { ok: false, problem: 'TREE_HEAD_UNTRUSTED_KEY', detail: `signed by key ${head.keyId}, not the trusted ledger key ${trusted.keyId}` };
  }
  let sig: Uint8Array;
  try {
    sig = b64uDecode(head.signature);
  } catch (e) {
    return { ok: false, problem: 'TREE_HEAD_SIG_INVALID', detail: `signature is not canonical base64url: ${(e as Error).message}` };
  }
  if (sig.length !== SIGNATURE_LENGTH || !verify(treeHeadStatement(head), sig, trusted.publicKey)) {
    return { ok: false, problem: 'TREE_HEAD_SIG_INVALID', detail: 'signature does not verify over the tree head (size, root, time or log id changed)' };
  }
  return { ok: true };
}
