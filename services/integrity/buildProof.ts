import type { Pool, ClientBase } from 'pg';
import { Frontier, InclusionProofBuilder } from '../../schema/merkle';
import { encode as b64uEncode } from '../../schema/crypto/base64url';
import { IntegrityError } from './errors';
import { ledgerLeafHash, type LedgerLeaf } from './ledgerLeaf';
import { latestTreeHead, ledgerKeyById, readTip, streamLeaves } from './treeHeadStore';
import { PROOF_TYPE, type InclusionProofFile } from './proofFile';
import { withTransaction } from '../common/transaction';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * The inclusion proof of one event against the latest signed tree head. Streams the leaves the head covers once
 * (O(n) hashing, O(log^2 n) memory) inside one read-only snapshot, and refuses to print a proof if those leaves no
 * longer hash to the head's root: that ledger needs `verify`, not a proof.
 */
export async function buildInclusionProof(pool: Pool, eventId: string): Promise<InclusionProofFile> {
  return withTransaction(pool, (client) => build(client, eventId), 'snapshot');
}

async function build(db: ClientBase, eventId: string): Promise<InclusionProofFile> {
  const tip = await readTip(db);
  const r = await db.query<{ leaf_index: string; event_id: string; event_hash: string; raw_sha256: Buffer; raw: Buffer }>(
    'SELECT leaf_index, event_id, event_hash, raw_sha256, raw FROM ledger_events WHERE event_id = $1',
    [eventId],
  );
  const row = r.rows[0];
  if (!row) throw new IntegrityError('EVENT_NOT_FOUND', `no ledgered event has id ${eventId}`);
  const leaf: LedgerLeaf = { leafIndex: Number(row.leaf_index), eventId: row.event_id, eventHash: row.event_hash, rawSha256: row.raw_sha256.toString('hex') };
  const head = await latestTreeHead(db, tip.logId);
  if (!head || head.treeSize <= leaf.leafIndex) {
    throw new IntegrityError(
      'NOT_YET_COVERED',
      `event ${eventId} is leaf ${leaf.leafIndex}, and the latest signed tree head covers ${head ? `leaves 0..${head.treeSize - 1}` : 'no leaves yet'}; the ingest consumer signs one within IL_TREE_HEAD_EVERY_MS, try again shortly`,
    );
  }
  const publicKey = await ledgerKeyById(db, head.keyId);
  if (!publicKey) throw new IntegrityError('LEDGER_INCONSISTENT', `tree head of size ${head.treeSize} names key ${head.keyId}, which ledger_keys does not hold`);

  const builder = new InclusionProofBuilder(leaf.leafIndex, head.treeSize);
  const frontier = Frontier.empty();
  for await (const l of streamLeaves(db, 0, head.treeSize)) {
    const h = ledgerLeafHash(l);
    builder.add(l.leafIndex, h);
    frontier.append(h);
  }
  if (hex(frontier.root()) !== head.rootHash) {
    throw new IntegrityError('LEDGER_INCONSISTENT', `the ledger's first ${head.treeSize} leaves no longer hash to the root signed at ${head.timestamp}; run \`intent-ledger verify\``);
  }
  return {
    v: 1,
    type: PROOF_TYPE,
    leaf,
    leafHash: hex(ledgerLeafHash(leaf)),
    auditPath: builder.proof().map(hex),
    treeHead: {
      logId: head.logId,
      treeSize: head.treeSize,
      rootHash: head.rootHash,
      timestamp: head.timestamp,
      keyId: head.keyId,
      signature: head.signature,
      publicKey: b64uEncode(publicKey),
    },
    event: { raw: b64uEncode(row.raw) },
  };
}
