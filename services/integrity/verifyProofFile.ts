import { parseStrictJson } from '../../schema/crypto/strictJson';
import { decode as b64uDecode } from '../../schema/crypto/base64url';
import { verifyInclusion } from '../../schema/merkle';
import { keyIdFor } from '../sdk';
import { ledgerLeafHash } from './ledgerLeaf';
import { checkTreeHeadSignature } from './treeHead';
import { InclusionProofFile } from './proofFile';
import { eventProblem } from './eventMatchesLeaf';
import type { TrustedKey } from './trustedKey';

export type ProofProblem =
  | 'PROOF_MALFORMED'
  | 'PROOF_KEY_MISMATCH'
  | 'TREE_HEAD_UNTRUSTED_KEY'
  | 'TREE_HEAD_SIG_INVALID'
  | 'LEAF_HASH_MISMATCH'
  | 'EVENT_MISMATCH'
  | 'INCLUSION_INVALID';

export type ProofCheck =
  | { ok: true; eventId: string; leafIndex: number; treeSize: number; timestamp: string; keyId: string; trust: string }
  | { ok: false; problem: ProofProblem; detail: string; trust: string | null };

/**
 * Checks an inclusion proof file with no database: the tree head's signature (by the trusted key; without one, by
 * the key in the file, which only shows the file is self-consistent), the leaf against the event bytes it carries,
 * and the audit path from the leaf to the signed root. Never throws on bad input.
 */
export function verifyProofFile(bytes: Uint8Array, trusted: TrustedKey | null): ProofCheck {
  let proof: InclusionProofFile;
  try {
    const parsed = InclusionProofFile.safeParse(parseStrictJson(bytes, { maxBytes: 4 * 1024 * 1024, maxDepth: 16 }));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return fail('PROOF_MALFORMED', `${issue.path.join('.') || '(root)'}: ${issue.message}`, trusted);
    }
    proof = parsed.data;
  } catch (e) {
    return fail('PROOF_MALFORMED', `not a JSON proof file: ${(e as Error).message}`, trusted);
  }
  const th = proof.treeHead;

  let embedded: Uint8Array;
  try {
    embedded = b64uDecode(th.publicKey);
  } catch (e) {
    return fail('PROOF_KEY_MISMATCH', `treeHead.publicKey is not base64url: ${(e as Error).message}`, trusted);
  }
  if (keyIdFor(embedded) !== th.keyId) return fail('PROOF_KEY_MISMATCH', `treeHead.publicKey is not key ${th.keyId}`, trusted);
  const trust = trusted ?? { key: { keyId: th.keyId, publicKey: embedded }, source: 'the public key inside the proof file (not pinned: pass --public-key to check it is the ledger’s)' };
  const sig = checkTreeHeadSignature(th, trust.key);
  if (!sig.ok) return fail(sig.problem, sig.detail, trust);

  const leafHash = Buffer.from(ledgerLeafHash(proof.leaf)).toString('hex');
  if (leafHash !== proof.leafHash) return fail('LEAF_HASH_MISMATCH', `the leaf hashes to ${leafHash}, not the leafHash given (${proof.leafHash})`, trust);

  if (proof.event) {
    const why = eventProblem(proof.event.raw, proof.leaf);
    if (why) return fail('EVENT_MISMATCH', why, trust);
  }

  const path = proof.auditPath.map((h) => new Uint8Array(Buffer.from(h, 'hex')));
  const inc = verifyInclusion(proof.leaf.leafIndex, th.treeSize, new Uint8Array(Buffer.from(leafHash, 'hex')), path, new Uint8Array(Buffer.from(th.rootHash, 'hex')));
  if (!inc.ok) return fail('INCLUSION_INVALID', `leaf ${proof.leaf.leafIndex} is not proven in the tree of size ${th.treeSize}: ${inc.detail}`, trust);
  return { ok: true, eventId: proof.leaf.eventId, leafIndex: proof.leaf.leafIndex, treeSize: th.treeSize, timestamp: th.timestamp, keyId: th.keyId, trust: trust.source };
}

function fail(problem: ProofProblem, detail: string, trusted: TrustedKey | null): ProofCheck {
  return { ok: false, problem, detail, trust: trusted?.source ?? null };
}
