import { parseStrictJson } from '../../schema/crypto/strictJson';
import { decode as b64uDecode } from '../../schema/crypto/base64url';
import { verify as verifySignature } from '../../schema/crypto/ed25519';
import { verifyInclusion } from '../../schema/merkle';
import { signingBytes } from '../../schema/events';
import { keyIdFor } from '../sdk/agentKey';
import { ledgerLeafHash } from './ledgerLeaf';
import { checkTreeHeadSignature } from './treeHead';
import { EvidenceBundle } from './bundleFile';
import { decodeLeafEvent } from './eventMatchesLeaf';
import type { TrustedKey } from './trustedKey';

export type BundleProblem =
  | 'BUNDLE_MALFORMED'
  | 'PROOF_KEY_MISMATCH'
  | 'TREE_HEAD_UNTRUSTED_KEY'
  | 'TREE_HEAD_SIG_INVALID'
  | 'EVENT_MISMATCH'
  | 'AGENT_KEY_MISSING'
  | 'SIG_INVALID'
  | 'INCLUSION_INVALID'
  | 'CHAIN_BROKEN';

export type BundleCheck =
  | { ok: true; subject: EvidenceBundle['subject']; events: number; proven: number; notYetCovered: string[]; treeSize: number; timestamp: string; trust: string }
  | { ok: false; problem: BundleProblem; detail: string; eventId: string | null; trust: string | null };

/**
 * Checks an evidence bundle with no database: the tree head's signature (by the pinned key; without one, by the key
 * in the bundle, which only shows the bundle is self-consistent), and for every event its bytes against its leaf,
 * its agent's signature under the key the bundle names (whose id must be that key's digest), its inclusion in the
 * signed tree, and, between consecutive events of one agent, the hash chain. Stops at the first problem, naming
 * the event. Events ledgered after the head are checked by signature and chain, and listed as not yet covered.
 */
export function verifyBundle(bytes: Uint8Array, trusted: TrustedKey | null): BundleCheck {
  let b: EvidenceBundle;
  try {
    const parsed = EvidenceBundle.safeParse(parseStrictJson(bytes, { maxBytes: 512 * 1024 * 1024, maxDepth: 64 }));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return fail('BUNDLE_MALFORMED', `${issue.path.join('.') || '(root)'}: ${issue.message}`, null, trusted);
    }
    b = parsed.data;
  } catch (e) {
    return fail('BUNDLE_MALFORMED', `not a JSON evidence bundle: ${(e as Error).message}`, null, trusted);
  }

  const th = b.treeHead;
  let embedded: Uint8Array;
  try {
    embedded = b64uDecode(th.publicKey);
  } catch (e) {
    return fail('PROOF_KEY_MISMATCH', `treeHead.publicKey is not base64url: ${(e as Error).message}`, null, trusted);
  }
  if (keyIdFor(embedded) !== th.keyId) return fail('PROOF_KEY_MISMATCH', `treeHead.publicKey is not key ${th.keyId}`, null, trusted);
  const trust = trusted ?? { key: { keyId: th.keyId, publicKey: embedded }, source: 'the public key inside the bundle (not pinned: pass --public-key to check it is the ledger’s)' };
  const sig = checkTreeHeadSignature(th, trust.key);
  if (!sig.ok) return fail(sig.problem, sig.detail, null, trust);
  const root = new Uint8Array(Buffer.from(th.rootHash, 'hex'));

  const keys = new Map<string, { agentId: string; publicKey: Uint8Array }>();
  for (const k of b.agentKeys) {
    let pk: Uint8Array;
    try {
      pk = b64uDecode(k.publicKey);
    } catch {
      return fail('AGENT_KEY_MISSING', `agentKeys: ${k.keyId} is not base64url`, null, trust);
    }
    // A key id is the key's digest: a bundle cannot pair an id with some other key.
    if (keyIdFor(pk) !== k.keyId) return fail('AGENT_KEY_MISSING', `agentKeys: ${k.keyId} does not name the key given with it`, null, trust);
    keys.set(k.keyId, { agentId: k.agentId, publicKey: pk });
  }

  const lastOf = new Map<string, { seq: number; hash: string }>();
  const notYetCovered: string[] = [];
  let proven = 0;
  for (const e of b.events) {
    const id = e.leaf.eventId;
    const decoded = decodeLeafEvent(e.raw, e.leaf);
    if (decoded.problem !== null) return fail('EVENT_MISMATCH', decoded.problem, id, trust);
    const env = decoded.envelope;
    const key = keys.get(env.keyId);
    if (!key || key.agentId !== env.agentId) return fail('AGENT_KEY_MISSING', `event ${id} is signed with key ${env.keyId} of agent ${env.agentId}, which the bundle does not carry`, id, trust);
    let signature: Uint8Array;
    try {
      signature = b64uDecode(env.sig);
    } catch {
      return fail('SIG_INVALID', `event ${id}: its signature is not base64url`, id, trust);
    }
    if (!verifySignature(signingBytes(env), signature, key.publicKey)) return fail('SIG_INVALID', `event ${id}: the signature does not verify under key ${env.keyId}`, id, trust);

    if (e.auditPath === null) {
      if (e.leaf.leafIndex < th.treeSize) return fail('INCLUSION_INVALID', `event ${id} is leaf ${e.leaf.leafIndex}, inside the signed tree, but carries no audit path`, id, trust);
      notYetCovered.push(id);
    } else {
      const path = e.auditPath.map((h) => new Uint8Array(Buffer.from(h, 'hex')));
      const inc = verifyInclusion(e.leaf.leafIndex, th.treeSize, ledgerLeafHash(e.leaf), path, root);
      if (!inc.ok) return fail('INCLUSION_INVALID', `event ${id} (leaf ${e.leaf.leafIndex}) is not proven in the tree of size ${th.treeSize}: ${inc.detail}`, id, trust);
      proven += 1;
    }

    const prev = lastOf.get(env.agentId);
    if (prev && env.seq === prev.seq + 1 && env.prevHash !== prev.hash) {
      return fail('CHAIN_BROKEN', `event ${id} (agent ${env.agentId}, seq ${env.seq}) does not link to seq ${prev.seq}`, id, trust);
    }
    if (!prev || env.seq > prev.seq) lastOf.set(env.agentId, { seq: env.seq, hash: e.leaf.eventHash });
  }
  return { ok: true, subject: b.subject, events: b.events.length, proven, notYetCovered, treeSize: th.treeSize, timestamp: th.timestamp, trust: trust.source };
}

function fail(problem: BundleProblem, detail: string, eventId: string | null, trusted: TrustedKey | null): BundleCheck {
  return { ok: false, problem, detail, eventId, trust: trusted?.source ?? null };
}
