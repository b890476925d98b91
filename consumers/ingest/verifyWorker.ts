/**
 * Body of a verify worker thread (see verifyPool.ts): Ed25519 verification of batches of (message, signature,
 * public key), with the same `verify` as the main thread, so that the ingest event loop stays free for Postgres
 * and Kafka while signatures are checked.
 */
import { parentPort } from 'node:worker_threads';
import { verify } from '../../schema/crypto/ed25519';

export interface VerifyRequest {
  id: number;
  items: Array<[Uint8Array, Uint8Array, Uint8Array]>;
}

export interface VerifyResponse {
  id: number;
  ok: boolean[];
}

parentPort?.on('message', (req: VerifyRequest) => {
  const res: VerifyResponse = { id: req.id, ok: req.items.map(([m, s, k]) => verify(m, s, k)) };
  parentPort!.postMessage(res);
});
