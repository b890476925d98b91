import type { Pool } from 'pg';
import { Frontier } from '../../schema/merkle';
import type { Logger } from '../common/logger';
import type { LedgerSigningKey } from './ledgerKey';
import { ledgerLeafHash } from './ledgerLeaf';
import { checkTreeHeadSignature, signTreeHead, SignedTreeHead } from './treeHead';
import { insertTreeHead, latestTreeHead, readTip, recordLedgerKey, streamLeaves, StoredTreeHead } from './treeHeadStore';

export interface TreeHeadSignerOptions {
  key: LedgerSigningKey;
  /** Sign once this many leaves are not covered by a head... */
  everyN: number;
  /** ...or once the last head is this old and leaves have been added since. */
  everyMs: number;
  log: Logger;
  now?: () => Date;
  /** How often to look for uncovered leaves; default min(everyMs, 1000). */
  pollMs?: number;
}

/** Only one process signs at a time (per database); the others skip that round. */
const SIGNER_LOCK = 724100002;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * Signs RFC 6962 tree heads over the ledger's leaves with the ledger's own key: every `everyN` new leaves, every
 * `everyMs` while leaves keep coming, and once more on stop, so a clean shutdown leaves no unsigned tail. It keeps
 * the tree's frontier between heads (in memory, and in each head's row to resume after a restart), so a head costs
 * only the hashing of the leaves added since the last one.
 */
export class TreeHeadSigner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<SignedTreeHead | null> | null = null;
  private appended = 0;
  private frontier: Frontier | null = null;
  private keyRecorded = false;
  private truncationReported = false;
  private readonly startedAt: number;
  private readonly now: () => Date;

  constructor(
    private readonly pool: Pool,
    private readonly opts: TreeHeadSignerOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
    this.startedAt = this.now().getTime();
  }

  /** Starts the clock that signs a head once the last one is `everyMs` old and leaves have come in since. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.trigger(false), this.opts.pollMs ?? Math.min(this.opts.everyMs, 1000));
    this.timer.unref();
  }

  /** Called by the ingest consumer after a batch commits; signs early once `everyN` leaves have come in. */
  noteAppended(count: number): void {
    this.appended += count;
    if (this.appended >= this.opts.everyN) void this.trigger(false);
  }

  /** Stops the clock and signs a final head over everything ledgered so far. */
  async stop(): Promise<SignedTreeHead | null> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.running) await this.running;
    return this.trigger(true);
  }

  private trigger(force: boolean): Promise<SignedTreeHead | null> {
    if (this.running) return this.running;
    this.running = this.signIfDue(force)
      .catch((e: unknown) => {
        this.opts.log.error('tree head not signed', { error: (e as Error).message });
        return null;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /**
   * Signs a head over all committed leaves if one is due (or `force`), and returns it; null when nothing was due
   * or another process holds the signing lock. Leaves are numbered in commit order under the tip lock, so every
   * leaf below the committed tip is already visible here.
   */
  async signIfDue(force = false): Promise<SignedTreeHead | null> {
    this.appended = 0;
    if (!this.keyRecorded) {
      await recordLedgerKey(this.pool, this.opts.key);
      this.keyRecorded = true;
    }
    const cached = this.frontier;
    this.frontier = null;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const lock = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [SIGNER_LOCK]);
      if (!lock.rows[0]!.ok) {
        await client.query('ROLLBACK');
        this.frontier = cached;
        return null;
      }
      const tip = await readTip(client);
      const latest = await latestTreeHead(client, tip.logId);
      const signed = latest?.treeSize ?? 0;
      if (tip.nextLeafIndex < signed && !this.truncationReported) {
        this.truncationReported = true;
        // Never sign over this: a head smaller than a signed one would paper over the cut.
        this.opts.log.error('the ledger has fewer leaves than its latest signed tree head: its tail was removed; run `intent-ledger verify`', { leaves: tip.nextLeafIndex, signedTreeSize: signed });
      }
      const at = this.now();
      const lastAt = latest ? Date.parse(latest.timestamp) : this.startedAt;
      const due = tip.nextLeafIndex > signed && (force || tip.nextLeafIndex - signed >= this.opts.everyN || at.getTime() - lastAt >= this.opts.everyMs);
      if (!due) {
        await client.query('ROLLBACK');
        this.frontier = cached;
        return null;
      }
      const frontier = this.resumeFrom(latest, cached);
      for await (const leaf of streamLeaves(client, frontier.size, tip.nextLeafIndex)) frontier.append(ledgerLeafHash(leaf));
      const head = signTreeHead({ logId: tip.logId, treeSize: frontier.size, rootHash: hex(frontier.root()), timestamp: at.toISOString() }, this.opts.key);
      const inserted = await insertTreeHead(client, head, frontier.hashes().map(hex));
      await client.query('COMMIT');
      this.frontier = frontier;
      if (inserted) this.opts.log.debug('tree head signed', { treeSize: head.treeSize, rootHash: head.rootHash });
      return inserted ? head : null;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /**
   * Where to continue hashing from: our own frontier if it is at the latest head, else the frontier stored with the
   * latest head if that head is ours and the frontier reproduces its root (it then cannot be anything but the true
   * one), else the start of the ledger.
   */
  private resumeFrom(latest: StoredTreeHead | null, cached: Frontier | null): Frontier {
    if (!latest) return Frontier.empty();
    if (cached && cached.size === latest.treeSize && hex(cached.root()) === latest.rootHash) return cached;
    if (checkTreeHeadSignature(latest, this.opts.key).ok) {
      try {
        const f = Frontier.fromHashes(latest.treeSize, latest.frontier.map((h) => new Uint8Array(Buffer.from(h, 'hex'))));
        if (hex(f.root()) === latest.rootHash) return f;
      } catch {
        // fall through to a full rehash
      }
    }
    this.opts.log.warn('cannot resume from the latest tree head; rehashing the ledger from leaf 0', { treeSize: latest.treeSize, keyId: latest.keyId });
    return Frontier.empty();
  }
}

/** Signs a head now if there are uncovered leaves, whatever the schedule (tests and tools). */
export async function signTreeHeadNow(pool: Pool, key: LedgerSigningKey, log: Logger): Promise<SignedTreeHead | null> {
  return new TreeHeadSigner(pool, { key, everyN: 1, everyMs: 1, log }).signIfDue(true);
}
