import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { PoolClient, Pool } from 'pg';
import type { RegisteredKey } from './verifyEnvelope';
import type { ChainHead, StoredLink } from './decideChain';
import type { ReasonCode, Severity } from '../../schema/reasons';

export interface KafkaCoords {
  topic: string;
  partition: number;
  offset: string;
}

export interface LedgerRow {
  eventId: string;
  agentId: string;
  keyId: string;
  seq: number;
  type: string;
  prevHash: string | null;
  eventHash: string;
  ts: string;
  payload: unknown;
  signature: string;
  raw: Buffer;
  rawSha256: Buffer;
  coords: KafkaCoords;
  producedAt: Date;
  /** Place in the ledger's append order (its Merkle tree), handed out by claimLeaves. */
  leafIndex: number;
}

export interface RejectedRow {
  reason: ReasonCode;
  detail: string;
  raw: Buffer;
  rawSha256: Buffer;
  agentId: string | null;
  eventId: string | null;
  coords: KafkaCoords;
  kafkaKey: Buffer | null;
  producedAt: Date | null;
}

export interface IntegrityRow {
  agentId: string;
  reason: ReasonCode;
  severity: Severity;
  detail: string;
  eventId: string | null;
  expectedSeq: number | null;
  observedSeq: number | null;
}

/**
 * What ingest announces on the ledger topic for each ledgered event: a pointer, not the evidence. Readers that act
 * on an event (the reconciler) read it from ledger_events by id, so a forged notice can claim nothing.
 */
export interface LedgerNotice {
  leafIndex: string;
  eventId: string;
  agentId: string;
  keyId: string;
  seq: number;
  type: string;
  ts: string;
  producedAt: string;
}

export async function loadKeys(pool: Pool, keyIds: string[], agentIds: string[]) {
  const keys = new Map<string, RegisteredKey>();
  const agents = new Set<string>();
  if (keyIds.length > 0) {
    const r = await pool.query<{ key_id: string; agent_id: string; public_key: Buffer; status: 'active' | 'retired' }>(
      'SELECT key_id, agent_id, public_key, status FROM agent_keys WHERE key_id = ANY($1::text[])',
      [keyIds],
    );
    for (const k of r.rows) {
      keys.set(k.key_id, { keyId: k.key_id, agentId: k.agent_id, publicKey: new Uint8Array(k.public_key), status: k.status });
    }
  }
  if (agentIds.length > 0) {
    const r = await pool.query<{ agent_id: string }>('SELECT agent_id FROM agents WHERE agent_id = ANY($1::text[])', [agentIds]);
    for (const a of r.rows) agents.add(a.agent_id);
  }
  return { keys, agents };
}

/** Locks the chain heads of these agents for the rest of the transaction: one writer per agent chain. */
export async function lockHeads(client: PoolClient, agentIds: string[]): Promise<Map<string, ChainHead>> {
  const heads = new Map<string, ChainHead>();
  if (agentIds.length === 0) return heads;
  const r = await client.query<{ agent_id: string; last_seq: string; last_hash: string }>(
    'SELECT agent_id, last_seq, last_hash FROM agent_heads WHERE agent_id = ANY($1::text[]) ORDER BY agent_id FOR UPDATE',
    [agentIds],
  );
  for (const h of r.rows) heads.set(h.agent_id, { lastSeq: Number(h.last_seq), lastHash: h.last_hash });
  return heads;
}

export async function findByEventIds(client: PoolClient, eventIds: string[]): Promise<Map<string, StoredLink>> {
  const out = new Map<string, StoredLink>();
  if (eventIds.length === 0) return out;
  const r = await client.query<{ event_id: string; event_hash: string }>(
    'SELECT event_id, event_hash FROM ledger_events WHERE event_id = ANY($1::text[])',
    [eventIds],
  );
  for (const row of r.rows) out.set(row.event_id, { eventId: row.event_id, hash: row.event_hash });
  return out;
}

export async function findBySeq(client: PoolClient, pairs: Array<{ agentId: string; seq: number }>): Promise<Map<string, StoredLink>> {
  const out = new Map<string, StoredLink>();
  if (pairs.length === 0) return out;
  const r = await client.query<{ agent_id: string; seq: string; event_id: string; event_hash: string; prev_hash: string | null }>(
    `SELECT l.agent_id, l.seq, l.event_id, l.event_hash, l.prev_hash FROM ledger_events l
       JOIN unnest($1::text[], $2::bigint[]) AS p(agent_id, seq) ON l.agent_id = p.agent_id AND l.seq = p.seq`,
    [pairs.map((p) => p.agentId), pairs.map((p) => p.seq)],
  );
  for (const row of r.rows) out.set(`${row.agent_id}\u0000${row.seq}`, { eventId: row.event_id, hash: row.event_hash, prevHash: row.prev_hash });
  return out;
}

/**
 * Records of this partition already turned into a ledger or rejected row, so a redelivered record is not processed
 * twice. A record is its coordinates together with the SHA-256 of its bytes: a recreated topic reuses offsets, and
 * a new record at an old offset must not be mistaken for the old one.
 */
export async function findProcessed(client: PoolClient | Pool, topic: string, partition: number, records: Array<{ offset: string; sha256: Buffer }>) {
  // Offsets rise within a partition, so in the common case (no redelivery) one probe of each index shows that no
  // record of the batch can have been written yet. A recreated topic reuses offsets; then the full lookup runs.
  const lowest = records.reduce((m, r) => (BigInt(r.offset) < m ? BigInt(r.offset) : m), BigInt(records[0]?.offset ?? 0));
  const high = await client.query<{ l: string | null; r: string | null }>(
    `SELECT (SELECT max(kafka_offset) FROM ledger_events WHERE kafka_topic = $1 AND kafka_partition = $2) AS l,
            (SELECT max(kafka_offset) FROM rejected_events WHERE kafka_topic = $1 AND kafka_partition = $2) AS r`,
    [topic, partition],
  );
  const { l, r } = high.rows[0]!;
  if ((l === null || BigInt(l) < lowest) && (r === null || BigInt(r) < lowest)) {
    return { ledgered: new Map<string, LedgerNotice>(), rejected: new Set<string>() };
  }
  const offsets = records.map((r) => r.offset);
  const hashes = records.map((r) => r.sha256);
  const ledgered = await client.query<LedgerNoticeRow>(
    `SELECT ${NOTICE_COLUMNS.split(', ').map((c) => 'l.' + c).join(', ')} FROM ledger_events l
       JOIN unnest($3::bigint[], $4::bytea[]) AS u(o, h) ON l.kafka_offset = u.o AND l.raw_sha256 = u.h
      WHERE l.kafka_topic = $1 AND l.kafka_partition = $2`,
    [topic, partition, offsets, hashes],
  );
  const rejected = await client.query<{ kafka_offset: string }>(
    `SELECT r.kafka_offset FROM rejected_events r
       JOIN unnest($3::bigint[], $4::bytea[]) AS u(o, h) ON r.kafka_offset = u.o AND r.raw_sha256 = u.h
      WHERE r.kafka_topic = $1 AND r.kafka_partition = $2`,
    [topic, partition, offsets, hashes],
  );
  return {
    ledgered: new Map(ledgered.rows.map((r) => [r.kafka_offset, toNotice(r)])),
    rejected: new Set(rejected.rows.map((r) => r.kafka_offset)),
  };
}

const NOTICE_COLUMNS = 'leaf_index, event_id, agent_id, key_id, seq, type, ts, produced_at, kafka_offset';
interface LedgerNoticeRow {
  leaf_index: string;
  event_id: string;
  agent_id: string;
  key_id: string;
  seq: string;
  type: string;
  ts: Date;
  produced_at: Date;
  kafka_offset: string;
}

function toNotice(r: LedgerNoticeRow): LedgerNotice {
  return {
    leafIndex: r.leaf_index,
    eventId: r.event_id,
    agentId: r.agent_id,
    keyId: r.key_id,
    seq: Number(r.seq),
    type: r.type,
    ts: r.ts.toISOString(),
    producedAt: r.produced_at.toISOString(),
  };
}

/**
 * Claims the next `count` leaf indices and returns the first, in one statement that also locks the ledger's single
 * tip row until the transaction ends. Taken last, right before the ledger rows are appended, because it serialises
 * every ingest transaction: holding it from here to COMMIT is what makes leaf indices gap-free and in commit order
 * (and positions, drawn from their sequence under the same lock, in the same order).
 */
export async function claimLeaves(client: PoolClient, count: number): Promise<number> {
  const r = await client.query<{ first: string }>(
    'UPDATE ledger_tip SET next_leaf_index = next_leaf_index + $1 WHERE id = 1 RETURNING next_leaf_index - $1 AS first',
    [count],
  );
  if (!r.rows[0]) throw new Error('ledger_tip has no row; run the migrations (0002_tree_heads.sql)');
  return Number(r.rows[0].first);
}

const LEDGER_COLUMNS =
  'event_id, agent_id, key_id, seq, type, prev_hash, event_hash, ts, payload, signature, raw, kafka_topic, kafka_partition, kafka_offset, produced_at, raw_sha256, leaf_index';

/**
 * Appends the rows with one COPY, in the rows' order (so positions, drawn from their sequence as COPY reads, rise
 * with leaf indices). COPY has no ON CONFLICT: a row that breaks a unique constraint fails the whole transaction,
 * which the caller rolls back and Kafka redelivers; the callers' locks and lookups make that a sign of a bug or a
 * concurrent writer, never a normal path. Returns the notices to announce, in leaf order.
 */
export async function insertLedgerRows(client: PoolClient, rows: LedgerRow[]): Promise<LedgerNotice[]> {
  if (rows.length === 0) return [];
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(
      [
        copyText(r.eventId), copyText(r.agentId), copyText(r.keyId), String(r.seq), copyText(r.type), r.prevHash === null ? '\\N' : copyText(r.prevHash),
        copyText(r.eventHash), copyText(r.ts), copyText(JSON.stringify(r.payload)), copyText(r.signature), copyBytea(r.raw), copyText(r.coords.topic),
        String(r.coords.partition), r.coords.offset, r.producedAt.toISOString(), copyBytea(r.rawSha256), String(r.leafIndex),
      ].join('\t'),
    );
  }
  await copyIn(client, `COPY ledger_events (${LEDGER_COLUMNS}) FROM STDIN`, lines.join('\n') + '\n');
  return rows.map((r) => ({
    leafIndex: String(r.leafIndex),
    eventId: r.eventId,
    agentId: r.agentId,
    keyId: r.keyId,
    seq: r.seq,
    type: r.type,
    ts: new Date(r.ts).toISOString(),
    producedAt: r.producedAt.toISOString(),
  }));
}

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped (U+0000 never gets here). */
export function copyText(v: string): string {
  return v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** bytea in COPY's text format: the hex form, its backslash escaped for COPY. */
function copyBytea(b: Buffer): string {
  return '\\\\x' + b.toString('hex');
}

async function copyIn(client: PoolClient, sql: string, body: string): Promise<void> {
  const stream = client.query(copyFrom(sql));
  await pipeline(Readable.from([Buffer.from(body, 'utf8')]), stream);
}

export async function insertRejectedRows(client: PoolClient, rows: RejectedRow[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO rejected_events (reason_code, detail, raw, agent_id, event_id, kafka_topic, kafka_partition, kafka_offset, kafka_key, produced_at, raw_sha256)
     SELECT rc::reason_code, d, raw, a, e, kt, kp, ko, kk, pa, rh
       FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bigint[], $9::bytea[], $10::timestamptz[], $11::bytea[])
         AS u(rc, d, raw, a, e, kt, kp, ko, kk, pa, rh)
     ON CONFLICT DO NOTHING`,
    [
      rows.map((r) => r.reason),
      rows.map((r) => r.detail),
      rows.map((r) => r.raw),
      rows.map((r) => r.agentId),
      rows.map((r) => r.eventId),
      rows.map((r) => r.coords.topic),
      rows.map((r) => r.coords.partition),
      rows.map((r) => r.coords.offset),
      rows.map((r) => r.kafkaKey),
      rows.map((r) => (r.producedAt ? r.producedAt.toISOString() : null)),
      rows.map((r) => r.rawSha256),
    ],
  );
}

/** Inserts the findings; returns the ids of those that are new (a redelivered record's finding is already there). */
export async function insertIntegrityFindings(client: PoolClient, rows: IntegrityRow[]): Promise<Array<{ id: string; agentId: string }>> {
  const added: Array<{ id: string; agentId: string }> = [];
  for (const f of rows) {
    const r = await client.query<{ id: string }>(
      `INSERT INTO integrity_findings (agent_id, reason_code, severity, detail, event_id, expected_seq, observed_seq)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id`,
      [f.agentId, f.reason, f.severity, f.detail, f.eventId, f.expectedSeq, f.observedSeq],
    );
    if (r.rows[0]) added.push({ id: r.rows[0].id, agentId: f.agentId });
  }
  return added;
}

export async function updateHeads(client: PoolClient, heads: Map<string, ChainHead>): Promise<void> {
  if (heads.size === 0) return;
  const ids = [...heads.keys()];
  await client.query(
    `UPDATE agent_heads h SET last_seq = u.s, last_hash = u.hh, updated_at = now()
       FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(a, s, hh) WHERE h.agent_id = u.a`,
    [ids, ids.map((a) => heads.get(a)!.lastSeq), ids.map((a) => heads.get(a)!.lastHash)],
  );
}
