import { runCli } from './cli';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Producer } from 'kafkajs';
import { Client, Pool } from 'pg';
import { migrate } from '../schema/migrate';
import { createPool } from '../services/common/db';
import { createLogger } from '../services/common/logger';
import { ingestBatch, IngestMetrics } from '../consumers/ingest';
import { AgentClient, createAgentKey, type SentEvent } from '../services/sdk';
import { registerAgentKey } from '../services/registry';
import { encode as b64uEncode } from '../schema/crypto/base64url';
import {
  buildInclusionProof,
  loadOrCreateLedgerKey,
  signTreeHeadNow,
  TreeHeadSigner,
  verifyLedger,
  verifyProofFile,
  type LedgerSigningKey,
  type VerifyReport,
} from '../services/integrity';
import { createHarness, eventually } from './pipelineHarness';

/**
 * Tamper evidence on real Postgres: a ledger written by the real ingest code verifies; each way of editing the
 * database behind the ledger's back (a payload, a deleted row, two rows swapped, a cut-off tail, a tree head) is
 * named, by its first bad entry; an inclusion proof checks out with no database, and a tampered one does not.
 */
const base = process.env.DATABASE_URL!;
const log = createLogger('silent');
const limits = { maxBytes: 256 * 1024, maxDepth: 32, clockSkewMs: 5 * 60_000 };

const created: string[] = [];
const pools: Pool[] = [];
let admin: Client;
let ledgerKey: LedgerSigningKey;
let keyFile: string;
const trusted = () => ({ keyId: ledgerKey.keyId, publicKey: ledgerKey.publicKey });

beforeAll(async () => {
  admin = new Client({ connectionString: base });
  await admin.connect();
  keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'il-integrity-')), 'ledger-key.json');
  ledgerKey = loadOrCreateLedgerKey(keyFile);
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

async function freshDatabase(): Promise<{ url: string; pool: Pool }> {
  const name = `il_integrity_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  created.push(name);
  const u = new URL(base);
  u.pathname = `/${name}`;
  const url = u.toString();
  await migrate(url);
  const pool = createPool(url, 6);
  pools.push(pool);
  return { url, pool };
}

interface Ledger {
  url: string;
  pool: Pool;
  /** events[i] is leaf i: agents a, b, c take turns, four events each. */
  events: SentEvent[];
}

let offsets = 0;
function records(events: SentEvent[]) {
  return events.map((e) => ({ offset: String(offsets++), key: Buffer.from(e.envelope.agentId), value: e.bytes, timestamp: String(Date.now()) }));
}

/** Twelve events by the real ingest code, with signed tree heads at 8 and at 12 leaves. */
async function ledger(): Promise<Ledger> {
  const { url, pool } = await freshDatabase();
  const clients: AgentClient[] = [];
  for (const name of ['a', 'b', 'c']) {
    const key = createAgentKey(`agent-${name}-${randomBytes(2).toString('hex')}`);
    await registerAgentKey(pool, { agentId: key.agentId, publicKey: key.publicKey });
    clients.push(new AgentClient({ key, producer: {} as Producer, topic: 'unused' }));
  }
  const events: SentEvent[] = [];
  for (let round = 0; round < 4; round++) {
    for (const c of clients) events.push(c.sign('intent.closed', { intentId: `int_${round}`, outcome: 'completed' }));
  }
  const metrics = new IngestMetrics();
  await ingestBatch(pool, 'il.events', 0, records(events.slice(0, 8)), limits, metrics);
  expect((await signTreeHeadNow(pool, ledgerKey, log))?.treeSize).toBe(8);
  await ingestBatch(pool, 'il.events', 0, records(events.slice(8)), limits, metrics);
  expect((await signTreeHeadNow(pool, ledgerKey, log))?.treeSize).toBe(12);
  expect(metrics.ledgered).toBe(12);
  return { url, pool, events };
}

const verify = (l: Ledger) => verifyLedger(l.pool, { trusted: trusted() });
const first = (r: VerifyReport) => r.problems[0];
const leafOf = async (l: Ledger, eventId: string) => Number((await l.pool.query('SELECT leaf_index FROM ledger_events WHERE event_id = $1', [eventId])).rows[0].leaf_index);

/** Runs the real CLI with this file's ledger key; resolves with its exit code and output. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args, { IL_LEDGER_KEY_FILE: keyFile, IL_LEDGER_PUBLIC_KEY: '', ...env });
}

describe('integrity: an intact ledger', () => {
  it('verifies a chain whose concealed events arrived late (gap, then LATE_EVENT fills), and names a late row with no finding', async () => {
    const { pool } = await freshDatabase();
    const key = createAgentKey(`agent-late-${randomBytes(2).toString('hex')}`);
    await registerAgentKey(pool, { agentId: key.agentId, publicKey: key.publicKey });
    const c = new AgentClient({ key, producer: {} as Producer, topic: 'unused' });
    const [e1, e2, e3, e4] = Array.from({ length: 4 }, (_, i) => c.sign('intent.closed', { intentId: `int_${i}`, outcome: 'completed' })) as [SentEvent, SentEvent, SentEvent, SentEvent];
    const metrics = new IngestMetrics();
    await ingestBatch(pool, 'il.events', 0, records([e1, e4]), limits, metrics);
    await ingestBatch(pool, 'il.events', 0, records([e3, e2]), limits, metrics);
    expect(metrics.ledgered).toBe(4);
    await signTreeHeadNow(pool, ledgerKey, log);
    const report = await verifyLedger(pool, { trusted: trusted() });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    await pool.query("DELETE FROM integrity_findings WHERE reason_code = 'LATE_EVENT' AND event_id = $1", [e2.envelope.eventId]);
    const broken = await verifyLedger(pool, { trusted: trusted() });
    expect(broken.ok).toBe(false);
    expect(broken.problems[0]).toMatchObject({ code: 'SEQ_ORDER', eventId: e2.envelope.eventId });
  });

  it('numbers leaves without gaps in commit order, even when partitions commit side by side', async () => {
    const { pool } = await freshDatabase();
    const batches = await Promise.all(
      [0, 1, 2, 3].map(async (partition) => {
        const key = createAgentKey(`agent-p${partition}-${randomBytes(2).toString('hex')}`);
        await registerAgentKey(pool, { agentId: key.agentId, publicKey: key.publicKey });
        const c = new AgentClient({ key, producer: {} as Producer, topic: 'unused' });
        return { partition, events: Array.from({ length: 25 }, (_, i) => c.sign('intent.closed', { intentId: `int_${i}`, outcome: 'completed' })) };
      }),
    );
    const metrics = new IngestMetrics();
    // Five rounds of four partitions committing at once.
    for (let round = 0; round < 5; round++) {
      await Promise.all(batches.map((b) => ingestBatch(pool, 'il.events', b.partition, records(b.events.slice(round * 5, round * 5 + 5)), limits, metrics)));
    }
    const rows = (await pool.query<{ leaf_index: string; position: string }>('SELECT leaf_index, position FROM ledger_events ORDER BY leaf_index')).rows;
    expect(rows.map((r) => Number(r.leaf_index))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const positions = rows.map((r) => BigInt(r.position));
    expect(positions.every((p, i) => i === 0 || p > positions[i - 1]!)).toBe(true);
    expect(Number((await pool.query('SELECT next_leaf_index FROM ledger_tip')).rows[0].next_leaf_index)).toBe(100);
    await signTreeHeadNow(pool, ledgerKey, log);
    const report = await verifyLedger(pool, { trusted: trusted(), pageSize: 7 });
    expect(report).toMatchObject({ ok: true, leaves: 100, agents: 4, unsignedLeaves: 0, problemCount: 0 });
  });

  it('verifies, and `intent-ledger verify` exits 0 saying which key it trusted', async () => {
    const l = await ledger();
    const report = await verify(l);
    expect(report).toMatchObject({ ok: true, leaves: 12, agents: 3, treeHeads: { checked: 2, valid: 2, latest: { treeSize: 12 } }, unsignedLeaves: 0, problemCount: 0 });

    const run = await cli(['verify'], { DATABASE_URL: l.url });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ledger intact: 12 events from 3 agents; signatures, chains and 2 signed tree head\(s\) check out/);
    expect(run.stdout).toContain(`trusted from key file ${keyFile}`);

    // Pinned to another key, the same ledger's heads are not the ledger's.
    const other = loadOrCreateLedgerKey(path.join(mkdtempSync(path.join(tmpdir(), 'il-other-')), 'k.json'));
    const pinned = await cli(['verify', '--public-key', b64uEncode(other.publicKey)], { DATABASE_URL: l.url });
    expect(pinned.code).toBe(1);
    expect(pinned.stdout).toContain('first bad entry: tree head of size 8: TREE_HEAD_UNTRUSTED_KEY');
    expect(pinned.stdout).toContain('trusted from --public-key');
  });

  it('signs heads every N leaves and every T ms, resumes from a stored head in a new process, and once more on stop', async () => {
    const l = await ledger();
    let clock = Date.now();
    const warnings: string[] = [];
    const spy = { ...log, warn: (m: string) => void warnings.push(m), child: () => spy };
    // A signer that did not sign the heads at 8 and 12: it must resume from the stored frontier, not rehash.
    const signer = new TreeHeadSigner(l.pool, { key: ledgerKey, everyN: 3, everyMs: 60_000, log: spy, now: () => new Date(clock) });
    // Two new leaves: not due (N = 3, and the last head is fresh).
    const agent = await extendAgent(l, 'a');
    await ingestBatch(l.pool, 'il.events', 1, records(agent.next(2)), limits, new IngestMetrics());
    expect(await signer.signIfDue()).toBeNull();
    // A third: due by count.
    await ingestBatch(l.pool, 'il.events', 1, records(agent.next(1)), limits, new IngestMetrics());
    expect((await signer.signIfDue())?.treeSize).toBe(15);
    // One more: due only once the last head is T old.
    await ingestBatch(l.pool, 'il.events', 1, records(agent.next(1)), limits, new IngestMetrics());
    expect(await signer.signIfDue()).toBeNull();
    clock += 60_000;
    expect((await signer.signIfDue())?.treeSize).toBe(16);
    // Nothing new: nothing to sign, even on stop. Then one more leaf, and stop signs it.
    expect(await signer.signIfDue(true)).toBeNull();
    await ingestBatch(l.pool, 'il.events', 1, records(agent.next(1)), limits, new IngestMetrics());
    signer.start();
    expect((await signer.stop())?.treeSize).toBe(17);
    expect(warnings).toEqual([]);
    expect(await verify(l)).toMatchObject({ ok: true, leaves: 17, treeHeads: { valid: 5 }, unsignedLeaves: 0 });
  });
});

/** The agent whose events are leaves 0, 3, 6, 9 (`a`), to append more of its chain after them. */
async function extendAgent(l: Ledger, which: 'a' | 'b' | 'c') {
  const firstEvent = l.events[{ a: 0, b: 1, c: 2 }[which]]!;
  const agentId = firstEvent.envelope.agentId;
  const last = [...l.events].reverse().find((e) => e.envelope.agentId === agentId)!;
  // The agent's key is not kept by the fixture; register a fresh key for it (an agent may have several).
  const key = createAgentKey(agentId);
  await registerAgentKey(l.pool, { agentId, publicKey: key.publicKey });
  const client = new AgentClient({ key, producer: {} as Producer, topic: 'unused', resume: { seq: last.envelope.seq, hash: last.hash } });
  return { next: (n: number) => Array.from({ length: n }, (_, i) => client.sign('intent.closed', { intentId: `more_${i}`, outcome: 'completed' })) };
}

describe('integrity: tampering in Postgres is found and named', () => {
  it('a changed payload: the leaf, its event id, and the column', async () => {
    const l = await ledger();
    await l.pool.query(`UPDATE ledger_events SET payload = jsonb_set(payload, '{outcome}', '"failed"') WHERE leaf_index = 6`);
    const report = await verify(l);
    expect(report.ok).toBe(false);
    expect(first(report)).toMatchObject({ code: 'COLUMN_MISMATCH', leafIndex: 6, eventId: l.events[6]!.envelope.eventId, detail: 'payload differs from the signed raw event' });

    const run = await cli(['verify'], { DATABASE_URL: l.url });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`LEDGER TAMPERED: first bad entry: leaf 6 (event ${l.events[6]!.envelope.eventId}): COLUMN_MISMATCH: payload differs`);
  });

  it('changed raw bytes: the leaf, whether or not raw_sha256 and event_hash were recomputed to match', async () => {
    const l = await ledger();
    await l.pool.query(`UPDATE ledger_events SET raw = convert_to(replace(convert_from(raw, 'UTF8'), 'completed', 'abandoned'), 'UTF8') WHERE leaf_index = 2`);
    expect(first(await verify(l))).toMatchObject({ code: 'RAW_DIGEST_MISMATCH', leafIndex: 2, eventId: l.events[2]!.envelope.eventId });
    await l.pool.query(`UPDATE ledger_events SET raw_sha256 = sha256(raw) WHERE leaf_index = 2`);
    expect(first(await verify(l))).toMatchObject({ code: 'EVENT_HASH_MISMATCH', leafIndex: 2 });
  });

  it('a deleted row: the leaf index that went missing', async () => {
    const l = await ledger();
    await l.pool.query('DELETE FROM ledger_events WHERE leaf_index = 5');
    const report = await verify(l);
    expect(first(report)).toMatchObject({ code: 'LEAF_MISSING', leafIndex: 5 });
    expect(first(report)!.detail).toContain(`leaf 4 (event ${l.events[4]!.envelope.eventId}) is followed by leaf 6`);
    // The same agent's next event and the signed heads notice too.
    expect(report.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['SEQ_GAP', 'TREE_HEAD_ROOT_MISMATCH']));
  });

  it('two rows with their leaf indices swapped: the first of them', async () => {
    const l = await ledger();
    await swapLeafIndices(l.pool, 4, 5);
    const report = await verify(l);
    expect(first(report)).toMatchObject({ code: 'LEAF_OUT_OF_ORDER', leafIndex: 4, eventId: l.events[5]!.envelope.eventId });
    expect(await leafOf(l, l.events[5]!.envelope.eventId)).toBe(4);
  });

  it('two rows swapped whole (positions too, so every row and chain looks fine): the signed root', async () => {
    const l = await ledger();
    await swapLeafIndices(l.pool, 4, 5);
    const [p4, p5] = (await l.pool.query('SELECT position FROM ledger_events WHERE leaf_index IN (4, 5) ORDER BY leaf_index')).rows.map((r) => r.position);
    await l.pool.query('UPDATE ledger_events SET position = -1 WHERE position = $1', [p4]);
    await l.pool.query('UPDATE ledger_events SET position = $1 WHERE position = $2', [p4, p5]);
    await l.pool.query('UPDATE ledger_events SET position = $1 WHERE position = -1', [p5]);
    const report = await verify(l);
    expect(first(report)).toMatchObject({ code: 'TREE_HEAD_ROOT_MISMATCH', treeSize: 8 });
    expect(first(report)!.detail).toContain('a leaf in 0..7 was changed, replaced or reordered');
  });

  it('a tail cut off after a head was signed: where the ledger now ends', async () => {
    const l = await ledger();
    await l.pool.query('DELETE FROM ledger_events WHERE leaf_index >= 10');
    const report = await verify(l);
    expect(first(report)).toMatchObject({ code: 'TRUNCATED', leafIndex: 10 });
    expect(first(report)!.detail).toContain('the ledger has 10 leaves but a tree head signed at');
    expect(first(report)!.detail).toContain('covers 12: leaves 10..11 were removed');
    const run = await cli(['verify', '--json'], { DATABASE_URL: l.url });
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({ ok: false, leaves: 10, trustedKeySource: `key file ${keyFile}` });
    expect(json.problems[0]).toMatchObject({ code: 'TRUNCATED', leafIndex: 10 });
    // The leaf counter and both agents whose last events went agree.
    expect(json.problems.map((p: { code: string }) => p.code)).toEqual(['TRUNCATED', 'TIP_MISMATCH', 'CHAIN_HEAD_MISMATCH', 'CHAIN_HEAD_MISMATCH']);
  });

  it('a tail cut off together with the head over it: the leaf counter still knows', async () => {
    const l = await ledger();
    await l.pool.query('DELETE FROM ledger_events WHERE leaf_index >= 10');
    await l.pool.query('DELETE FROM tree_heads WHERE tree_size = 12');
    expect(first(await verify(l))).toMatchObject({ code: 'TIP_MISMATCH', leafIndex: 10 });
  });

  it('an edited tree head: that head', async () => {
    const l = await ledger();
    const other = (await l.pool.query('SELECT root_hash FROM tree_heads WHERE tree_size = 12')).rows[0].root_hash;
    await l.pool.query('UPDATE tree_heads SET root_hash = $1 WHERE tree_size = 8', [other]);
    expect(first(await verify(l))).toMatchObject({ code: 'TREE_HEAD_SIG_INVALID', treeSize: 8 });
  });
});

describe('integrity: inclusion proofs', () => {
  it('round-trip through `proof` and `verify --proof` with no database, and a tampered proof fails', async () => {
    const l = await ledger();
    const ev = l.events[9]!.envelope.eventId;
    const made = await cli(['proof', ev], { DATABASE_URL: l.url });
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    const proof = JSON.parse(made.stdout);
    expect(proof).toMatchObject({ leaf: { leafIndex: 9, eventId: ev }, treeHead: { treeSize: 12, keyId: ledgerKey.keyId, publicKey: b64uEncode(ledgerKey.publicKey) } });
    expect(verifyProofFile(Buffer.from(made.stdout), { key: trusted(), source: 'test' })).toMatchObject({ ok: true, leafIndex: 9, treeSize: 12 });

    const dir = mkdtempSync(path.join(tmpdir(), 'il-proof-'));
    const file = path.join(dir, 'proof.json');
    writeFileSync(file, made.stdout);
    // A database URL that cannot be reached: the check must not need one.
    const offline = { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' };
    const ok = await cli(['verify', '--proof', file, '--public-key', b64uEncode(ledgerKey.publicKey)], offline);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`proof OK: event ${ev} is leaf 9 of the ledger's tree of 12 leaves`);
    expect(ok.stdout).toContain('trusted key from --public-key');

    const bad = JSON.parse(readFileSync(file, 'utf8'));
    bad.auditPath[0] = bad.auditPath[0].replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
    const badFile = path.join(dir, 'tampered.json');
    writeFileSync(badFile, JSON.stringify(bad));
    const refused = await cli(['verify', '--proof', badFile], offline);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('PROOF INVALID: INCLUSION_INVALID');
    expect(refused.stdout).toContain(`trusted key from key file ${keyFile}`);
  });

  it('are refused for an event no signed head covers yet, and for a ledger that no longer matches its head', async () => {
    const l = await ledger();
    const agent = await extendAgent(l, 'b');
    const [late] = agent.next(1);
    await ingestBatch(l.pool, 'il.events', 2, records([late!]), limits, new IngestMetrics());
    await expect(buildInclusionProof(l.pool, late!.envelope.eventId)).rejects.toMatchObject({ code: 'NOT_YET_COVERED' });
    await expect(buildInclusionProof(l.pool, 'evt_nope')).rejects.toMatchObject({ code: 'EVENT_NOT_FOUND' });
    await l.pool.query(`UPDATE ledger_events SET event_hash = repeat('0', 64) WHERE leaf_index = 1`);
    await expect(buildInclusionProof(l.pool, l.events[0]!.envelope.eventId)).rejects.toMatchObject({ code: 'LEDGER_INCONSISTENT' });
  });

  it('`ledger-key` prints the key auditors pin', async () => {
    const run = await cli(['ledger-key', '--json'], {});
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ keyId: ledgerKey.keyId, publicKey: b64uEncode(ledgerKey.publicKey), file: keyFile });
  });
});

describe('integrity: through the real pipeline', () => {
  it('ledgers events from Kafka, signs heads as it goes and on stop, and verifies', async () => {
    const { url, pool } = await freshDatabase();
    const saved = { DATABASE_URL: process.env.DATABASE_URL, IL_LEDGER_KEY_FILE: process.env.IL_LEDGER_KEY_FILE, IL_TREE_HEAD_EVERY_N: process.env.IL_TREE_HEAD_EVERY_N };
    Object.assign(process.env, { DATABASE_URL: url, IL_LEDGER_KEY_FILE: keyFile, IL_TREE_HEAD_EVERY_N: '4' });
    const h = await createHarness();
    try {
      await h.startIngest();
      const agents = await Promise.all([h.newAgent('x'), h.newAgent('y')]);
      const sent: string[] = [];
      for (let i = 0; i < 6; i++) {
        for (const a of agents) {
          const { event } = await a.reportAction({ intentId: null, tool: 'get_balance', args: { i } });
          sent.push(event.envelope.eventId);
        }
      }
      await eventually(async () => {
        const n = (await pool.query('SELECT count(*)::int AS n FROM ledger_events')).rows[0].n;
        return n === sent.length ? n : undefined;
      }, 60_000, 'all events ledgered');
      await h.ingest!.stop();
      h.ingest = null;
      const report = await verifyLedger(pool, { trusted: trusted() });
      expect(report).toMatchObject({ ok: true, leaves: 12, agents: 2, unsignedLeaves: 0 });
      expect(report.treeHeads.valid).toBeGreaterThanOrEqual(1);
    } finally {
      await h.stop();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

/** What an attacker with SQL access does to reorder two rows: a unique column needs a spare value. */
async function swapLeafIndices(pool: Pool, a: number, b: number): Promise<void> {
  await pool.query('UPDATE ledger_events SET leaf_index = 999999 WHERE leaf_index = $1', [a]);
  await pool.query('UPDATE ledger_events SET leaf_index = $1 WHERE leaf_index = $2', [a, b]);
  await pool.query('UPDATE ledger_events SET leaf_index = $1 WHERE leaf_index = 999999', [b]);
}
