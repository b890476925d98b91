import type { Pool, ClientBase } from 'pg';
import { Frontier, InclusionProofBuilder } from '../../schema/merkle';
import { encode as b64uEncode } from '../../schema/crypto/base64url';
import { frameworksFor } from '../../schema/frameworks';
import type { ReasonCode } from '../../schema/reasons';
import { IntegrityError } from './errors';
import { ledgerLeafHash, type LedgerLeaf } from './ledgerLeaf';
import { latestTreeHead, ledgerKeyById, readTip, streamLeaves } from './treeHeadStore';
import { BUNDLE_TYPE, type EvidenceBundle } from './bundleFile';
import { withTransaction } from '../common/transaction';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** More events than this in one bundle is an export job, not a request. */
export const MAX_BUNDLE_EVENTS = 20_000;

/**
 * Builds the evidence bundle for an intent (its declaration, every action and decision citing it, its close, and
 * the intents delegated from it with theirs, plus each involved agent's other events between its first and last of
 * those) or for an agent (its whole chain), in one read-only snapshot. The
 * leaves the head covers are streamed once: every event's audit path is built in that one pass.
 */
export async function buildEvidenceBundle(pool: Pool, subject: { kind: 'intent' | 'agent'; id: string }, now: () => Date = () => new Date()): Promise<EvidenceBundle> {
  return withTransaction(pool, (client) => build(client, subject, now), 'snapshot');
}

async function build(db: ClientBase, subject: { kind: 'intent' | 'agent'; id: string }, now: () => Date): Promise<EvidenceBundle> {
  // The subject's events, and for an intent every event of each agent involved between its first and last one
  // there (the context): a verifier can then see each agent's chain unbroken across the span, so no event in it
  // can have been left out.
  const subjectEvents =
    subject.kind === 'agent'
      ? 'SELECT agent_id, min(seq) AS lo, max(seq) AS hi FROM ledger_events WHERE agent_id = $1 GROUP BY agent_id'
      : `SELECT agent_id, min(seq) AS lo, max(seq) AS hi FROM ledger_events
          WHERE payload->>'intentId' = ANY(SELECT intent_id FROM intents WHERE intent_id = $1 OR root_intent_id = $1 OR parent_intent_id = $1 UNION SELECT $1::text)
          GROUP BY agent_id`;
  const rows = (
    await db.query<{ leaf_index: string; event_id: string; event_hash: string; raw_sha256: Buffer; raw: Buffer; agent_id: string; key_id: string }>(
      `WITH span AS (${subjectEvents})
       SELECT e.leaf_index, e.event_id, e.event_hash, e.raw_sha256, e.raw, e.agent_id, e.key_id
         FROM ledger_events e JOIN span s ON e.agent_id = s.agent_id AND e.seq BETWEEN ${subject.kind === 'agent' ? '1' : 's.lo'} AND s.hi
        ORDER BY e.leaf_index LIMIT ${MAX_BUNDLE_EVENTS + 1}`,
      [subject.id],
    )
  ).rows;
  if (rows.length === 0) throw new IntegrityError('EVENT_NOT_FOUND', `the ledger holds no event of ${subject.kind} ${subject.id}`);
  if (rows.length > MAX_BUNDLE_EVENTS) throw new IntegrityError('BUNDLE_TOO_LARGE', `${subject.kind} ${subject.id} has more than ${MAX_BUNDLE_EVENTS} events; export it in parts`);

  const tip = await readTip(db);
  const head = await latestTreeHead(db, tip.logId);
  if (!head) throw new IntegrityError('NOT_YET_COVERED', 'no tree head has been signed yet; the ingest consumer signs one within IL_TREE_HEAD_EVERY_MS, try again shortly');
  const ledgerKey = await ledgerKeyById(db, head.keyId);
  if (!ledgerKey) throw new IntegrityError('LEDGER_INCONSISTENT', `tree head of size ${head.treeSize} names key ${head.keyId}, which ledger_keys does not hold`);

  const leaves: LedgerLeaf[] = rows.map((r) => ({ leafIndex: Number(r.leaf_index), eventId: r.event_id, eventHash: r.event_hash, rawSha256: r.raw_sha256.toString('hex') }));
  const builders = new Map<number, InclusionProofBuilder>();
  for (const l of leaves) if (l.leafIndex < head.treeSize) builders.set(l.leafIndex, new InclusionProofBuilder(l.leafIndex, head.treeSize));
  const frontier = Frontier.empty();
  for await (const l of streamLeaves(db, 0, head.treeSize)) {
    const h = ledgerLeafHash(l);
    for (const b of builders.values()) b.add(l.leafIndex, h);
    frontier.append(h);
  }
  if (hex(frontier.root()) !== head.rootHash) {
    throw new IntegrityError('LEDGER_INCONSISTENT', `the ledger's first ${head.treeSize} leaves no longer hash to the root signed at ${head.timestamp}; run \`intent-ledger verify\``);
  }

  const keys = await db.query<{ agent_id: string; key_id: string; public_key: Buffer }>(
    'SELECT agent_id, key_id, public_key FROM agent_keys WHERE key_id = ANY($1::text[]) ORDER BY key_id',
    [[...new Set(rows.map((r) => r.key_id))]],
  );
  const eventIds = rows.map((r) => r.event_id);
  const findings = await db.query<{ id: string; action_event_id: string; agent_id: string; intent_id: string | null; tool: string; reason_code: ReasonCode; severity: string; detail: string; created_at: Date }>(
    'SELECT id, action_event_id, agent_id, intent_id, tool, reason_code, severity, detail, created_at FROM drift_findings WHERE action_event_id = ANY($1::text[]) ORDER BY id',
    [eventIds],
  );
  return {
    v: 1,
    type: BUNDLE_TYPE,
    subject,
    createdAt: now().toISOString(),
    treeHead: { logId: head.logId, treeSize: head.treeSize, rootHash: head.rootHash, timestamp: head.timestamp, keyId: head.keyId, signature: head.signature, publicKey: b64uEncode(ledgerKey) },
    agentKeys: keys.rows.map((k) => ({ agentId: k.agent_id, keyId: k.key_id, publicKey: b64uEncode(k.public_key) })),
    events: rows.map((r, i) => ({
      leaf: leaves[i]!,
      raw: b64uEncode(r.raw),
      auditPath: builders.has(leaves[i]!.leafIndex) ? builders.get(leaves[i]!.leafIndex)!.proof().map(hex) : null,
    })),
    findings: findings.rows.map((f) => ({
      id: f.id, eventId: f.action_event_id, agentId: f.agent_id, intentId: f.intent_id, tool: f.tool, reasonCode: f.reason_code, severity: f.severity, detail: f.detail,
      frameworks: frameworksFor(f.reason_code), createdAt: f.created_at.toISOString(),
    })),
  };
}
