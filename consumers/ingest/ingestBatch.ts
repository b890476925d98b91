import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { decodeEvent, DecodeLimits } from './decodeEvent';
import { checkSignatureInputs, SIGNATURE_MISMATCH } from './verifyEnvelope';
import { inlineVerifier, Verifier } from './verifyPool';
import { decideChain, ChainHead } from './decideChain';
import {
  loadKeys,
  lockHeads,
  findByEventIds,
  findBySeq,
  findProcessed,
  insertLedgerRows,
  insertRejectedRows,
  claimLeaves,
  insertIntegrityFindings,
  updateHeads,
  LedgerRow,
  RejectedRow,
  IntegrityRow,
  LedgerNotice,
} from './ledgerStore';
import { envelopeDigests } from '../../schema/events/digest';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Envelope } from '../../schema/events';
import type { IngestMetrics } from './ingestMetrics';

/** Records checked between two yields to the event loop (about 40 ms of verifying). */
const SLICE = 256;

export interface InRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string; // Kafka record timestamp, ms since epoch (producer's CreateTime)
}

export interface BatchOutcome {
  notices: LedgerNotice[]; // ledgered events to announce, in ledger order (includes re-announcements of redeliveries)
  rejected: RejectedRow[]; // rejected in this call (not redeliveries)
  ledgered: number; // rows this call added to the ledger (new leaves)
  integrity: Array<{ id: string; agentId: string }>; // integrity findings this call recorded, for the reconciler to act on
}

interface Candidate {
  rec: InRecord;
  envelope: Envelope;
  hash: string;
  signingBytes: Uint8Array;
  clockSkewMs: number | null;
}

/** A partition batch after the stateless checks: what the ledger transaction takes. */
interface CheckedBatch {
  topic: string;
  partition: number;
  records: InRecord[];
  sha: Map<string, Buffer>;
  verified: Candidate[];
  rejected: RejectedRow[];
  at: Date;
}

/**
 * Turns one partition's batch of records into ledger rows and rejected rows in a single transaction. The Kafka
 * offset may be committed only after this returns. Processing is idempotent by Kafka coordinates (a redelivered
 * record is recognised and only re-announced) and by event id and (agent, seq) (a replayed event is rejected).
 * Ledgered rows take the next leaf indices of the ledger's append order, which signed tree heads cover.
 */
export async function ingestBatch(
  pool: Pool,
  topic: string,
  partition: number,
  records: InRecord[],
  limits: DecodeLimits,
  metrics: IngestMetrics,
  now: () => Date = () => new Date(),
  verifier: Verifier = inlineVerifier,
): Promise<BatchOutcome> {
  return ledgerChecked(pool, await checkBatch(pool, topic, partition, records, limits, metrics, now, verifier), metrics);
}

/**
 * The stateless half of ingestBatch: parse, schema, signature, with no transaction open. It yields to the event
 * loop every SLICE records so that other partitions' transactions, which may hold the ledger's tip lock, are not
 * kept waiting behind a whole batch of verifies.
 */
async function checkBatch(
  pool: Pool,
  topic: string,
  partition: number,
  records: InRecord[],
  limits: DecodeLimits,
  metrics: IngestMetrics,
  now: () => Date,
  verifier: Verifier,
): Promise<CheckedBatch> {
  metrics.batches += 1;
  const sha = new Map(records.map((r) => [r.offset, createHash('sha256').update(r.value ?? Buffer.alloc(0)).digest()]));
  const rejected: RejectedRow[] = [];
  const reject = rejecter(topic, partition, sha, rejected);
  // A redelivered record is checked again here and dropped under the partition lock in ledgerChecked.
  const decoded: Candidate[] = [];
  const at = now();
  for (let i = 0; i < records.length; i++) {
    if (i > 0 && i % SLICE === 0) await yieldToLoop();
    const r = records[i]!;
    const d = decodeEvent(r.value, limits, at);
    if (!d.ok) {
      reject(r, d.reason, d.detail, d.agentId, d.eventId);
      continue;
    }
    const digests = envelopeDigests(d.envelope);
    decoded.push({ rec: r, envelope: d.envelope, hash: digests.eventHash, signingBytes: digests.signingBytes, clockSkewMs: d.clockSkewMs });
  }
  const { keys, agents } = await loadKeys(
    pool,
    [...new Set(decoded.map((c) => c.envelope.keyId))],
    [...new Set(decoded.map((c) => c.envelope.agentId))],
  );
  // The checks around the signature here; the Ed25519 equations in bulk on the verifier (worker threads in the
  // ingest consumer), which leaves this event loop free for other partitions' transactions meanwhile.
  const signed: Array<{ c: Candidate; key: Uint8Array; signature: Uint8Array }> = [];
  for (const c of decoded) {
    const key = keys.get(c.envelope.keyId);
    const pre = checkSignatureInputs(c.envelope, key, agents.has(c.envelope.agentId));
    if (!pre.ok) reject(c.rec, pre.reason, pre.detail, c.envelope.agentId, c.envelope.eventId);
    else signed.push({ c, key: key!.publicKey, signature: pre.signature });
  }
  const ok = await verifier.verifyMany(signed.map((x) => [x.c.signingBytes, x.signature, x.key]));
  const verified: Candidate[] = [];
  signed.forEach(({ c }, i) => {
    if (!ok[i]) reject(c.rec, SIGNATURE_MISMATCH.reason, SIGNATURE_MISMATCH.detail, c.envelope.agentId, c.envelope.eventId);
    else if (!keyedByAgent(c.rec.key, c.envelope.agentId)) reject(c.rec, 'KAFKA_KEY_MISMATCH', keyMismatchDetail(c.rec.key, c.envelope.agentId), c.envelope.agentId, c.envelope.eventId);
    else verified.push(c);
  });
  return { topic, partition, records, sha, verified, rejected, at };
}

/**
 * An agent's events must be keyed by its id: that is what keeps its chain on one partition, in order. A genuine
 * event under another key (a misconfigured producer, or someone replaying an agent's events onto another partition
 * to reorder them) is refused with its bytes kept; the agent's own correctly keyed copy is still ledgered.
 */
function keyedByAgent(key: Buffer | null, agentId: string): boolean {
  return key !== null && key.length === Buffer.byteLength(agentId) && key.toString('utf8') === agentId;
}

function keyMismatchDetail(key: Buffer | null, agentId: string): string {
  const shown = key === null ? 'no key' : `key ${JSON.stringify(key.toString('utf8').slice(0, 128))}`;
  return `record has ${shown}, but events of agent ${agentId} must be keyed by the agent id (their chain stays on one partition)`;
}

function rejecter(topic: string, partition: number, sha: Map<string, Buffer>, into: RejectedRow[]) {
  return (r: InRecord, reason: RejectedRow['reason'], detail: string, agentId: string | null, eventId: string | null) =>
    into.push({ reason, detail, raw: r.value ?? Buffer.alloc(0), rawSha256: sha.get(r.offset)!, agentId, eventId, coords: { topic, partition, offset: r.offset }, kafkaKey: r.key, producedAt: producedAt(r) });
}

/** The record timestamp is the producer's claim; one Postgres cannot store (year -29719) must not stall the partition. */
function producedAt(r: InRecord): Date | null {
  const ms = Number(r.timestamp);
  return Number.isFinite(ms) && ms > -62135596800000 && ms < 253402300800000 ? new Date(ms) : null;
}

/** The transactional half of ingestBatch: the chain checks and the append, under the partition and head locks. */
async function ledgerChecked(pool: Pool, batch: CheckedBatch, metrics: IngestMetrics): Promise<BatchOutcome> {
  const { topic, partition, records, sha, verified, rejected, at } = batch;
  const reject = rejecter(topic, partition, sha, rejected);
  const coords = (r: InRecord) => ({ topic, partition, offset: r.offset });
  // 2. The chain, under a lock on each agent's head.
  const client = await pool.connect();
  let skewed = 0;
  try {
    await client.query('BEGIN');
    // One writer per partition: if a rebalance briefly gives this partition to two consumers, the second waits here
    // and then sees what the first wrote, instead of recording the first one's events as replays.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1), $2)', [topic, partition]);
    // Records this partition already turned into rows (a redelivery) are only re-announced, never processed again.
    const processed = await findProcessed(client, topic, partition, records.map((r) => ({ offset: r.offset, sha256: sha.get(r.offset)! })));
    const done = (offset: string) => processed.ledgered.has(offset) || processed.rejected.has(offset);
    const redelivered = processed.ledgered.size + processed.rejected.size;
    if (redelivered > 0) {
      verified.splice(0, verified.length, ...verified.filter((c) => !done(c.rec.offset)));
      rejected.splice(0, rejected.length, ...rejected.filter((r) => !done(r.coords.offset)));
    }
    const agentIds = [...new Set(verified.map((c) => c.envelope.agentId))];
    const heads = await lockHeads(client, agentIds);
    const byId = await findByEventIds(client, verified.map((c) => c.envelope.eventId));
    // For events behind the head: the ledgered events at their seq (a replay or a fork), at the seq before (the link
    // a late event must match) and at the seq after (which must link to the late event).
    const bySeq = await findBySeq(
      client,
      verified
        .filter((c) => c.envelope.seq <= (heads.get(c.envelope.agentId)?.lastSeq ?? 0))
        .flatMap((c) => [-1, 0, 1].map((d) => ({ agentId: c.envelope.agentId, seq: c.envelope.seq + d })))
        .filter((p) => p.seq >= 1),
    );
    const toLedger: Array<Omit<LedgerRow, 'leafIndex'>> = [];
    const findings: IntegrityRow[] = [];
    const changed = new Map<string, ChainHead>();
    for (const c of verified) {
      const e = c.envelope;
      const head = changed.get(e.agentId) ?? heads.get(e.agentId) ?? { lastSeq: 0, lastHash: '' };
      const decision = decideChain(head, { eventId: e.eventId, seq: e.seq, prevHash: e.prevHash, hash: c.hash }, byId.get(e.eventId), bySeq.get(`${e.agentId}\u0000${e.seq}`), bySeq.get(`${e.agentId}\u0000${e.seq - 1}`), bySeq.get(`${e.agentId}\u0000${e.seq + 1}`));
      if (decision.finding) {
        findings.push({ agentId: e.agentId, reason: decision.finding.reason, severity: decision.finding.severity, detail: decision.finding.detail, eventId: e.eventId, expectedSeq: decision.finding.expectedSeq, observedSeq: e.seq });
      }
      if (decision.kind === 'reject') {
        reject(c.rec, decision.reason, decision.detail, e.agentId, e.eventId);
        continue;
      }
      if (c.clockSkewMs !== null) {
        skewed += 1;
        findings.push({ agentId: e.agentId, reason: 'CLOCK_SKEW', severity: 'low', detail: `event ts is ${Math.round(c.clockSkewMs / 1000)}s from the ledger's clock`, eventId: e.eventId, expectedSeq: null, observedSeq: e.seq });
      }
      toLedger.push({
        eventId: e.eventId, agentId: e.agentId, keyId: e.keyId, seq: e.seq, type: e.type, prevHash: e.prevHash, eventHash: c.hash,
        ts: e.ts, payload: e.payload, signature: e.sig, raw: c.rec.value!, rawSha256: sha.get(c.rec.offset)!, coords: coords(c.rec), producedAt: producedAt(c.rec) ?? at,
      });
      byId.set(e.eventId, { eventId: e.eventId, hash: c.hash });
      bySeq.set(`${e.agentId}\u0000${e.seq}`, { eventId: e.eventId, hash: c.hash, prevHash: e.prevHash });
      changed.set(e.agentId, { lastSeq: Math.max(head.lastSeq, e.seq), lastHash: e.seq >= head.lastSeq ? c.hash : head.lastHash });
    }
    await insertRejectedRows(client, rejected);
    const integrity = await insertIntegrityFindings(client, findings);
    await updateHeads(client, changed);
    // Last, so that the lock every ingest transaction queues on is held only for the insert and the commit.
    let notices: LedgerNotice[] = [];
    if (toLedger.length > 0) {
      // A row that breaks a unique constraint (a concurrent writer, which the locks above rule out) fails the COPY
      // and so the transaction; Kafka then redelivers the batch.
      const first = await claimLeaves(client, toLedger.length);
      notices = await insertLedgerRows(client, toLedger.map((r, i) => ({ ...r, leafIndex: first + i })));
    }
    await client.query('COMMIT');
    metrics.ledgered += notices.length;
    metrics.clockSkewFlagged += skewed;
    metrics.redelivered += redelivered;
    for (const r of rejected) metrics.countRejected(r.reason);
    const reannounced = [...processed.ledgered.values()];
    return { notices: [...reannounced, ...notices], rejected, ledgered: notices.length, integrity };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
