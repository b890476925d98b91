import type { ClientBase, Pool } from 'pg';
import type { LedgerLeaf } from './ledgerLeaf';
import type { LedgerPublicKey } from './ledgerKey';
import type { SignedTreeHead } from './treeHead';
import { IntegrityError } from './errors';

/** Anything that runs a query: the pool, or one client inside a transaction. */
export type Db = Pool | ClientBase;

export interface LedgerTip {
  logId: string;
  nextLeafIndex: number;
}

/** A signed tree head as stored, with the frontier that lets the signer resume from it. */
export interface StoredTreeHead extends SignedTreeHead {
  frontier: string[];
}

export async function readTip(db: Db): Promise<LedgerTip> {
  const exists = await db.query<{ t: string | null }>("SELECT to_regclass('ledger_tip')::text AS t");
  if (exists.rows[0]?.t == null) {
    throw new IntegrityError('NOT_MIGRATED', 'the database has no ledger_tip table; run `intent-ledger migrate` (migration 0002) first');
  }
  const r = await db.query<{ log_id: string; next_leaf_index: string }>('SELECT log_id, next_leaf_index FROM ledger_tip WHERE id = 1');
  const row = r.rows[0];
  if (!row) throw new IntegrityError('LEDGER_INCONSISTENT', 'ledger_tip has no row: the ledger cannot number its leaves');
  return { logId: row.log_id, nextLeafIndex: Number(row.next_leaf_index) };
}

/** The leaves with index in [from, to), in order, at most `limit` of them. */
export async function readLeaves(db: Db, from: number, to: number, limit: number): Promise<LedgerLeaf[]> {
  const r = await db.query<{ leaf_index: string; event_id: string; event_hash: string; raw_sha256: Buffer }>(
    `SELECT leaf_index, event_id, event_hash, raw_sha256 FROM ledger_events
      WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index LIMIT $3`,
    [from, to, limit],
  );
  return r.rows.map((x) => ({ leafIndex: Number(x.leaf_index), eventId: x.event_id, eventHash: x.event_hash, rawSha256: x.raw_sha256.toString('hex') }));
}

/**
 * The leaves [from, to) in pages, checking that none is missing: a gap here means rows were deleted, and a tree
 * head or proof over them would be wrong.
 */
export async function* streamLeaves(db: Db, from: number, to: number, pageSize = 5000): AsyncGenerator<LedgerLeaf> {
  let next = from;
  while (next < to) {
    const page = await readLeaves(db, next, to, pageSize);
    for (const leaf of page) {
      if (leaf.leafIndex !== next) {
        throw new IntegrityError('LEDGER_INCONSISTENT', `leaf ${next} is missing (the next stored leaf is ${leaf.leafIndex}); run \`intent-ledger verify\``);
      }
      yield leaf;
      next += 1;
    }
    if (page.length === 0) {
      throw new IntegrityError('LEDGER_INCONSISTENT', `leaves ${next}..${to - 1} are missing; run \`intent-ledger verify\``);
    }
  }
}

interface TreeHeadRow {
  tree_size: string;
  root_hash: string;
  signed_at: Date;
  key_id: string;
  signature: string;
  frontier: string[];
}

const HEAD_COLUMNS = 'tree_size, root_hash, signed_at, key_id, signature, frontier';

function toHead(logId: string, r: TreeHeadRow): StoredTreeHead {
  return {
    logId,
    treeSize: Number(r.tree_size),
    rootHash: r.root_hash,
    timestamp: r.signed_at.toISOString(),
    keyId: r.key_id,
    signature: r.signature,
    frontier: r.frontier,
  };
}

export async function latestTreeHead(db: Db, logId: string): Promise<StoredTreeHead | null> {
  const r = await db.query<TreeHeadRow>(`SELECT ${HEAD_COLUMNS} FROM tree_heads ORDER BY tree_size DESC LIMIT 1`);
  return r.rows[0] ? toHead(logId, r.rows[0]) : null;
}

/** Every tree head in size order, a page at a time. */
export async function* streamTreeHeads(db: Db, logId: string, pageSize = 1000): AsyncGenerator<StoredTreeHead> {
  let after = 0;
  for (;;) {
    const r = await db.query<TreeHeadRow>(`SELECT ${HEAD_COLUMNS} FROM tree_heads WHERE tree_size > $1 ORDER BY tree_size LIMIT $2`, [after, pageSize]);
    for (const row of r.rows) yield toHead(logId, row);
    if (r.rows.length < pageSize) return;
    after = Number(r.rows[r.rows.length - 1]!.tree_size);
  }
}

/** Stores a head; false if one of that size already exists (another signer got there first). */
export async function insertTreeHead(db: Db, head: SignedTreeHead, frontier: string[]): Promise<boolean> {
  const r = await db.query(
    `INSERT INTO tree_heads (tree_size, root_hash, signed_at, key_id, signature, frontier)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tree_size) DO NOTHING`,
    [head.treeSize, head.rootHash, head.timestamp, head.keyId, head.signature, frontier],
  );
  return (r.rowCount ?? 0) > 0;
}

export async function recordLedgerKey(db: Db, key: LedgerPublicKey): Promise<void> {
  await db.query('INSERT INTO ledger_keys (key_id, public_key) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING', [key.keyId, Buffer.from(key.publicKey)]);
}

export async function ledgerKeyById(db: Db, keyId: string): Promise<Uint8Array | null> {
  const r = await db.query<{ public_key: Buffer }>('SELECT public_key FROM ledger_keys WHERE key_id = $1', [keyId]);
  return r.rows[0] ? new Uint8Array(r.rows[0].public_key) : null;
}
