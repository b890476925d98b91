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
  | 'CHAIN_BROKEN'
  | 'ORDER_INVALID'
  | 'SUBJECT_MISMATCH';

export type BundleCheck =
  | {
      ok: true;
      subject: EvidenceBundle['subject'];
      events: number;
      /** Events of the subject itself; the rest are context (other events of the same agents inside the span). */
      subjectEvents: number;
      proven: number;
      notYetCovered: string[];
      treeSize: number;
      timestamp: string;
      trust: string;
      /** Whether `trust` is a key the caller pinned; if not, the bundle is only shown to be self-consistent. */
      pinned: boolean;
    }
  | { ok: false; problem: BundleProblem; detail: string; eventId: string | null; trust: string | null };

/**
 * Checks an evidence bundle with no database: the tree head's signature (by the pinned key; without one, by the key
 * in the bundle, which only shows the bundle is self-consistent), and for every event its bytes against its leaf,
 * its agent's signature under the key the bundle names (whose id must be that key's digest) and its inclusion in
 * the signed tree. Then what was selected: events in ledger order with none twice, each agent's events an unbroken
 * chain (seq rising by one, each linking to the one before) from its first to its last in the bundle, so nothing
 * inside that span can have been dropped; for an agent, its chain from seq 1; for an intent, its declaration
 * present and every agent's span starting and ending on an event of the intent (or of one delegated from it). What
 * no bundle can show is that an agent has no event after its span; nor are `findings` signed (they are the
 * ledger's judgement, for the reader). Stops at the first problem, naming the event. Events ledgered after the head
 * are checked by signature and chain, and listed as not yet covered.
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
  const envelopes: Array<{ id: string; agentId: string; type: string; intentId: string | null; parentIntentId: string | null }> = [];
  let proven = 0;
  let prevLeaf = -1;
  for (const e of b.events) {
    const id = e.leaf.eventId;
    if (e.leaf.leafIndex <= prevLeaf) return fail('ORDER_INVALID', `event ${id} is leaf ${e.leaf.leafIndex}, after leaf ${prevLeaf}: events must be in ledger order, each once`, id, trust);
    prevLeaf = e.leaf.leafIndex;
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

    // Each agent's events in the bundle form one unbroken stretch of its chain.
    const prev = lastOf.get(env.agentId);
    if (prev && (env.seq !== prev.seq + 1 || env.prevHash !== prev.hash)) {
      return fail('CHAIN_BROKEN', `event ${id} (agent ${env.agentId}, seq ${env.seq}) does not follow seq ${prev.seq} in the bundle: events of the agent are missing or out of place`, id, trust);
    }
    if (!prev && b.subject.kind === 'agent' && env.seq !== 1) {
      return fail('CHAIN_BROKEN', `the bundle starts agent ${env.agentId}'s chain at seq ${env.seq}: an agent's bundle holds its chain from seq 1`, id, trust);
    }
    lastOf.set(env.agentId, { seq: env.seq, hash: e.leaf.eventHash });
    const p = env.payload as { intentId?: unknown; parentIntentId?: unknown };
    envelopes.push({
      id, agentId: env.agentId, type: env.type, intentId: typeof p.intentId === 'string' ? p.intentId : null,
      parentIntentId: env.type === 'intent.declared' && typeof p.parentIntentId === 'string' ? p.parentIntentId : null,
    });
  }
  if (envelopes.length === 0) return fail('SUBJECT_MISMATCH', `the bundle holds no event of ${b.subject.kind} ${b.subject.id}`, null, trust);

  let subjectEvents: number;
  if (b.subject.kind === 'agent') {
    const stranger = envelopes.find((x) => x.agentId !== b.subject.id);
    if (stranger) return fail('SUBJECT_MISMATCH', `event ${stranger.id} is agent ${stranger.agentId}'s, not ${b.subject.id}'s`, stranger.id, trust);
    subjectEvents = envelopes.length;
  } else {
    // The intent and those delegated from it (declared in the bundle), to a fixpoint.
    const intents = new Set([b.subject.id]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const x of envelopes) if (x.type === 'intent.declared' && x.parentIntentId && intents.has(x.parentIntentId) && x.intentId && !intents.has(x.intentId)) {
        intents.add(x.intentId);
        grew = true;
      }
    }
    const ofSubject = (x: (typeof envelopes)[number]) => x.intentId !== null && intents.has(x.intentId);
    if (!envelopes.some((x) => x.type === 'intent.declared' && x.intentId === b.subject.id)) {
      return fail('SUBJECT_MISMATCH', `the bundle does not hold the declaration of intent ${b.subject.id}`, null, trust);
    }
    for (const agentId of new Set(envelopes.map((x) => x.agentId))) {
      const mine = envelopes.filter((x) => x.agentId === agentId);
      for (const end of [mine[0]!, mine[mine.length - 1]!]) {
        if (!ofSubject(end)) return fail('SUBJECT_MISMATCH', `event ${end.id} (agent ${agentId}) ends the agent's span but is not an event of intent ${b.subject.id}`, end.id, trust);
      }
    }
    subjectEvents = envelopes.filter(ofSubject).length;
  }
  return {
    ok: true, subject: b.subject, events: b.events.length, subjectEvents, proven, notYetCovered, treeSize: th.treeSize, timestamp: th.timestamp, trust: trust.source,
    pinned: trusted !== null,
  };
}

function fail(problem: BundleProblem, detail: string, eventId: string | null, trusted: TrustedKey | null): BundleCheck {
  return { ok: false, problem, detail, eventId, trust: trusted?.source ?? null };
}
