import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { verify } from '../../schema/crypto/ed25519';
import type { VerifyRequest, VerifyResponse } from './verifyWorker';

export type VerifyItem = [message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array];

/** Verifies signatures in bulk; results in the order of the items. */
export interface Verifier {
  verifyMany(items: VerifyItem[]): Promise<boolean[]>;
  close(): Promise<void>;
}

/** On the calling thread: for tests and tools, and where no worker is wanted. */
export const inlineVerifier: Verifier = {
  verifyMany: async (items) => items.map(([m, s, k]) => verify(m, s, k)),
  close: async () => undefined,
};

const WORKER = path.join(__dirname, 'verifyWorker.ts');
/** Resolved here, not in the worker: an eval'd worker resolves modules from the current directory, which may be anywhere. */
const TSX = require.resolve('tsx/cjs/api');

/**
 * Ed25519 verification on worker threads, so the ingest event loop is free to answer Postgres while a batch's
 * signatures are checked: the ingest transaction holds the ledger's tip lock across round trips, and a loop busy
 * verifying would keep every other transaction waiting for it. Items are split evenly across the workers. If a
 * worker dies, its pending calls fail (the batch is retried) and the pool verifies inline from then on.
 */
export class WorkerVerifier implements Verifier {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (ok: boolean[]) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private broken: Error | null = null;

  /** `onBroken` hears of the first worker failure, after which the pool verifies inline. */
  constructor(count: number, private readonly onBroken: (e: Error) => void = () => undefined) {
    for (let i = 0; i < count; i++) {
      // The sources are TypeScript: the worker registers tsx before loading its body, as bin/intent-ledger.js does.
      const w = new Worker(`require(${JSON.stringify(TSX)}).register(); require(${JSON.stringify(WORKER)});`, { eval: true });
      w.on('message', (res: VerifyResponse) => {
        const p = this.pending.get(res.id);
        this.pending.delete(res.id);
        p?.resolve(res.ok);
      });
      const fail = (e: Error) => {
        if (this.broken === null) {
          this.broken = e;
          this.onBroken(e);
        }
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => {
        if (code !== 0) fail(new Error(`verify worker exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }

  async verifyMany(items: VerifyItem[]): Promise<boolean[]> {
    if (this.broken || this.workers.length === 0 || items.length === 0) return inlineVerifier.verifyMany(items);
    const per = Math.ceil(items.length / this.workers.length);
    const parts = await Promise.all(
      this.workers.map((w, i) => {
        const slice = items.slice(i * per, (i + 1) * per);
        if (slice.length === 0) return Promise.resolve([] as boolean[]);
        return new Promise<boolean[]>((resolve, reject) => {
          const id = this.nextId++;
          this.pending.set(id, { resolve, reject });
          const req: VerifyRequest = { id, items: slice };
          w.postMessage(req);
        });
      }),
    );
    return parts.flat();
  }

  async close(): Promise<void> {
    const ws = this.workers.splice(0);
    this.broken ??= new Error('verify pool closed');
    // Terminating exits the workers with code 1: not a failure to report.
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
