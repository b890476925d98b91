import type { ClientBase, Pool } from 'pg';
import { Frontier } from '../../schema/merkle';
import type { RegisteredKey } from '../../consumers/ingest/verifyEnvelope';
import { checkLedgerRow, type StoredLedgerRow } from './checkLedgerRow';
import { ChainChecker } from './chainChecker';
import { ledgerLeafHash } from './ledgerLeaf';
import type { LedgerPublicKey } from './ledgerKey';
import { checkTreeHeadSignature } from './treeHead';
import { readTip, streamTreeHeads, type StoredTreeHead } from './treeHeadStore';
import { problemOrder, type IntegrityProblem } from './problems';
import { withTransaction } from '../common/transaction';

export interface VerifyLedgerOptions {
  trusted: LedgerPublicKey;
  /** Rows read per query. */
  pageSize?: number;
  /** Problems kept in the report (all are counted). */
  maxProblems?: number;
  /** Called after each page: leaves checked so far, and how many the ledger has handed out. */
  onProgress?: (done: number, total: number) => void;
}

export interface VerifyReport {
  ok: boolean;
  logId: string;
  leaves: number;
  agents: number;
  treeHeads: { checked: number; valid: number; latest: { treeSize: number; rootHash: string; timestamp: string } | null };
  /** Leaves after the latest valid tree head: protected by signatures and chains, not yet by a head. */
  unsignedLeaves: number;
  trustedKeyId: string;
  problemCount: number;
  /** In ledger order, the first one being the first bad entry. */
  problems: IntegrityProblem[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * Re-checks the whole ledger from its rows: each event against its signed raw bytes and its agent's registered key,
 * each agent's chain, the leaf order, and every signed tree head (its signature by the trusted ledger key, and its
 * root against the root recomputed from the rows at its size). A head larger than the ledger means its tail was cut
 * off. Rows are read a page at a time inside one read-only snapshot, so memory is one page plus one chain tip per
 * agent, and a ledger still being written to is checked as of one instant.
 */
export async function verifyLedger(pool: Pool, opts: VerifyLedgerOptions): Promise<VerifyReport> {
  return withTransaction(pool, (client) => walk(client, opts), 'snapshot');
}

async function walk(db: ClientBase, opts: VerifyLedgerOptions): Promise<VerifyReport> {
  const pageSize = opts.pageSize ?? 500;
  const trusted = opts.trusted;
  const found = new ProblemLog(opts.maxProblems ?? 100);
  const tip = await readTip(db);

  const findingsFor = async (reason: 'SEQ_GAP' | 'LATE_EVENT') =>
    new Set(
      (await db.query<{ agent_id: string; observed_seq: string; event_id: string }>(
        'SELECT agent_id, observed_seq, event_id FROM integrity_findings WHERE reason_code = $1',
        [reason],
      )).rows.map((r) => `${r.agent_id}\u0000${r.observed_seq}\u0000${r.event_id}`),
    );
  const gaps = await findingsFor('SEQ_GAP');
  const late = await findingsFor('LATE_EVENT');
  const chain = new ChainChecker(
    (agentId, seq, eventId) => gaps.has(`${agentId}\u0000${seq}\u0000${eventId}`),
    (agentId, seq, eventId) => late.has(`${agentId}\u0000${seq}\u0000${eventId}`),
  );
  const keys = new Map<string, RegisteredKey | null>();

  const heads = streamTreeHeads(db, tip.logId);
  let head = (await heads.next()).value as StoredTreeHead | undefined;
  let checked = 0;
  let valid = 0;
  let lastGood: StoredTreeHead | null = null;
  const frontier = Frontier.empty();

  /** A head at exactly the size the frontier has reached. */
  const checkHead = (h: StoredTreeHead) => {
    checked += 1;
    const sig = checkTreeHeadSignature(h, trusted);
    if (!sig.ok) return found.add({ code: sig.problem, treeSize: h.treeSize, detail: `${sig.detail} (signed at ${h.timestamp})` });
    valid += 1;
    const root = hex(frontier.root());
    if (root !== h.rootHash) {
      const from = lastGood ? lastGood.treeSize : 0;
      return found.add({
        code: 'TREE_HEAD_ROOT_MISMATCH',
        treeSize: h.treeSize,
        detail: `signed at ${h.timestamp} with root ${h.rootHash}, but leaves 0..${h.treeSize - 1} now hash to ${root}: a leaf in ${from}..${h.treeSize - 1} was changed, replaced or reordered`,
      });
    }
    lastGood = h;
  };

  let expected = 0;
  let prev: StoredLedgerRow | null = null;
  for (;;) {
    const rows = await readRows(db, prev ? prev.leafIndex : -1, pageSize);
    if (rows.length === 0) break;
    opts.onProgress?.(Number(rows[rows.length - 1]!.leafIndex) + 1, tip.nextLeafIndex);
    await loadKeys(db, keys, rows);
    for (const row of rows) {
      const at = { leafIndex: row.leafIndex, eventId: row.eventId, agentId: row.agentId };
      if (row.leafIndex > expected) {
        const missing = row.leafIndex - expected;
        found.add({
          code: 'LEAF_MISSING',
          leafIndex: expected,
          detail: `${missing === 1 ? `leaf ${expected} is` : `leaves ${expected}..${row.leafIndex - 1} are`} missing: ${prev ? `leaf ${prev.leafIndex} (event ${prev.eventId})` : 'the start of the ledger'} is followed by leaf ${row.leafIndex} (event ${row.eventId})`,
        });
      }
      if (prev && row.position <= prev.position) {
        // Leaf indices and positions are handed out under one lock, so they rise together; the earlier row is out of place.
        found.add({
          code: 'LEAF_OUT_OF_ORDER',
          leafIndex: prev.leafIndex,
          eventId: prev.eventId,
          agentId: prev.agentId,
          detail: `it was inserted after leaf ${row.leafIndex} (event ${row.eventId}): position ${prev.position} > ${row.position}, so leaf indices were changed (rows reordered)`,
        });
      }
      const rc = checkLedgerRow(row, keys.get(row.keyId) ?? undefined);
      if (!rc.ok) found.add({ code: rc.code, ...at, detail: rc.detail });
      const cc = chain.next({ agentId: row.agentId, eventId: row.eventId, seq: row.seq, prevHash: row.prevHash, eventHash: row.eventHash });
      if (!cc.ok) found.add({ code: cc.code, ...at, detail: cc.detail });

      frontier.append(ledgerLeafHash({ leafIndex: row.leafIndex, eventId: row.eventId, eventHash: row.eventHash, rawSha256: row.rawSha256.toString('hex') }));
      while (head && head.treeSize <= frontier.size) {
        checkHead(head);
        head = (await heads.next()).value as StoredTreeHead | undefined;
      }
      expected = row.leafIndex + 1;
      prev = row;
    }
  }

  // Heads larger than the ledger: signed once, their leaves are gone.
  let beyond: StoredTreeHead | null = null;
  for (; head; head = (await heads.next()).value as StoredTreeHead | undefined) {
    checked += 1;
    const sig = checkTreeHeadSignature(head, trusted);
    if (!sig.ok) found.add({ code: sig.problem, treeSize: head.treeSize, detail: `${sig.detail} (signed at ${head.timestamp})` });
    else {
      valid += 1;
      beyond = head;
    }
  }
  if (beyond) {
    found.add({
      code: 'TRUNCATED',
      leafIndex: frontier.size,
      detail: `the ledger has ${frontier.size} leaves but a tree head signed at ${beyond.timestamp} covers ${beyond.treeSize}: ${beyond.treeSize - frontier.size === 1 ? `leaf ${frontier.size} was` : `leaves ${frontier.size}..${beyond.treeSize - 1} were`} removed`,
    });
  }
  if (tip.nextLeafIndex !== expected) {
    found.add({
      code: 'TIP_MISMATCH',
      leafIndex: Math.min(tip.nextLeafIndex, expected),
      detail:
        tip.nextLeafIndex > expected
          ? `leaves 0..${tip.nextLeafIndex - 1} were handed out but the last one stored is ${expected - 1}: the end of the ledger was removed`
          : `leaves up to ${expected - 1} are stored but only 0..${tip.nextLeafIndex - 1} were handed out: rows were added outside ingest`,
    });
  }

  const seen = chain.tipsSeen();
  const recorded = await db.query<{ agent_id: string; last_seq: string; last_hash: string }>('SELECT agent_id, last_seq, last_hash FROM agent_heads ORDER BY agent_id');
  const headed = new Set<string>();
  for (const h of recorded.rows) {
    headed.add(h.agent_id);
    const t = seen.get(h.agent_id) ?? { lastSeq: 0, lastHash: '' };
    const lastSeq = Number(h.last_seq);
    if (lastSeq !== t.lastSeq || h.last_hash !== t.lastHash) {
      found.add({
        code: 'CHAIN_HEAD_MISMATCH',
        agentId: h.agent_id,
        detail: `agent_heads says the chain ends at seq ${lastSeq}, the ledger's rows end it at seq ${t.lastSeq}${lastSeq > t.lastSeq ? ': the end of its chain was removed' : ''}`,
      });
    }
  }
  for (const agentId of seen.keys()) {
    if (!headed.has(agentId)) found.add({ code: 'CHAIN_HEAD_MISMATCH', agentId, detail: 'the agent has ledgered events but no chain head in agent_heads' });
  }

  const latest = lastGood as StoredTreeHead | null;
  return {
    ok: found.count === 0,
    logId: tip.logId,
    leaves: frontier.size,
    agents: seen.size,
    treeHeads: { checked, valid, latest: latest ? { treeSize: latest.treeSize, rootHash: latest.rootHash, timestamp: latest.timestamp } : null },
    unsignedLeaves: frontier.size - (latest?.treeSize ?? 0),
    trustedKeyId: trusted.keyId,
    problemCount: found.count,
    problems: found.inOrder(),
  };
}

/** Collects problems (bounded) and gives them back in ledger order. */
class ProblemLog {
  count = 0;
  private readonly kept: IntegrityProblem[] = [];
  constructor(private readonly max: number) {}

  add(p: Partial<IntegrityProblem> & Pick<IntegrityProblem, 'code' | 'detail'>): void {
    this.count += 1;
    // Problems arrive roughly in ledger order; keep a margin so sorting still finds the first ones.
    if (this.kept.length < this.max * 10) {
      this.kept.push({ leafIndex: null, eventId: null, treeSize: null, agentId: null, ...p });
    }
  }

  inOrder(): IntegrityProblem[] {
    return [...this.kept].sort((a, b) => problemOrder(a) - problemOrder(b)).slice(0, this.max);
  }
}

interface RowRecord {
  leaf_index: string;
  position: string;
  event_id: string;
  agent_id: string;
  key_id: string;
  seq: string;
  type: string;
  prev_hash: string | null;
  event_hash: string;
  ts: Date;
  payload: unknown;
  signature: string;
  raw: Buffer;
  raw_sha256: Buffer;
}

async function readRows(db: ClientBase, after: number, limit: number): Promise<StoredLedgerRow[]> {
  const r = await db.query<RowRecord>(
    `SELECT leaf_index, position, event_id, agent_id, key_id, seq, type, prev_hash, event_hash, ts, payload, signature, raw, raw_sha256
       FROM ledger_events WHERE leaf_index > $1 ORDER BY leaf_index LIMIT $2`,
    [after, limit],
  );
  return r.rows.map((x) => ({
    leafIndex: Number(x.leaf_index),
    position: BigInt(x.position),
    eventId: x.event_id,
    agentId: x.agent_id,
    keyId: x.key_id,
    seq: Number(x.seq),
    type: x.type,
    prevHash: x.prev_hash,
    eventHash: x.event_hash,
    ts: x.ts,
    payload: x.payload,
    signature: x.signature,
    raw: x.raw,
    rawSha256: x.raw_sha256,
  }));
}

async function loadKeys(db: ClientBase, cache: Map<string, RegisteredKey | null>, rows: StoredLedgerRow[]): Promise<void> {
  const missing = [...new Set(rows.map((r) => r.keyId))].filter((k) => !cache.has(k));
  if (missing.length === 0) return;
  const r = await db.query<{ key_id: string; agent_id: string; public_key: Buffer; status: 'active' | 'retired' }>(
    'SELECT key_id, agent_id, public_key, status FROM agent_keys WHERE key_id = ANY($1::text[])',
    [missing],
  );
  for (const k of missing) cache.set(k, null);
  for (const k of r.rows) cache.set(k.key_id, { keyId: k.key_id, agentId: k.agent_id, publicKey: new Uint8Array(k.public_key), status: k.status });
}
