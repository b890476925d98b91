import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { verify } from '../../schema/crypto/ed25519';
import { decode as b64uDecode } from '../../schema/crypto/base64url';
import { signingBytes } from '../../schema/events/digest';
import type { FleetAgent } from './benchFleet';

/** Native Ed25519 verifies per second on one core (this thread), with cached key objects, over the fleet's events. */
export function verifyCeiling(fleet: FleetAgent[], max = 20_000): number {
  const items: Array<[Uint8Array, Uint8Array, Uint8Array]> = [];
  for (const a of fleet) {
    for (const e of a.events) {
      if (items.length >= max) break;
      items.push([signingBytes(e.envelope), b64uDecode(e.envelope.sig), a.key.publicKey]);
    }
  }
  for (const [m, s, k] of items.slice(0, 200)) verify(m, s, k); // warm the key cache and the JIT
  const t0 = process.hrtime.bigint();
  let ok = 0;
  for (const [m, s, k] of items) if (verify(m, s, k)) ok++;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (ok !== items.length) throw new Error(`verify ceiling: ${items.length - ok} of the fleet's signatures failed`);
  return items.length / secs;
}

/** A raw kafkajs consumer reading the same topic from the start, doing nothing with the records. */
export async function kafkaConsumeCeiling(kafka: Kafka, topic: string, expected: number, timeoutMs = 120_000): Promise<number> {
  let first = 0n;
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomBytes(4).toString('hex')}`, maxBytesPerPartition: 4 * 1024 * 1024 });
  // The clock starts when the group is joined and fetching begins, and stops at the last record.
  consumer.on(consumer.events.GROUP_JOIN, () => {
    first = process.hrtime.bigint();
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let last = 0n;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`raw consume saw ${seen} of ${expected} records in ${timeoutMs} ms`)), timeoutMs);
    void consumer.run({
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= expected) {
          last = process.hrtime.bigint();
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  try {
    await done;
  } finally {
    await consumer.disconnect();
  }
  return expected / (Number(last - first) / 1e9);
}

/** COPY of the very rows the ingest path wrote, into a table of the same shape and indexes. */
export async function copyCeiling(pool: Pool, agentPrefix: string): Promise<{ rowsPerSecond: number; rows: number }> {
  const client = await pool.connect();
  const table = `bench_copy_${randomBytes(4).toString('hex')}`;
  try {
    const chunks: Buffer[] = [];
    await pipeline(
      client.query(copyTo(`COPY (SELECT * FROM ledger_events WHERE agent_id LIKE '${agentPrefix.replace(/'/g, "''")}%') TO STDOUT (FORMAT binary)`)),
      new Writable({ write(chunk: Buffer, _enc, cb) { chunks.push(chunk); cb(); } }),
    );
    await client.query(`CREATE TABLE ${table} (LIKE ledger_events INCLUDING ALL)`);
    const t0 = process.hrtime.bigint();
    const stream = client.query(copyFrom(`COPY ${table} FROM STDIN (FORMAT binary)`));
    await pipeline(Readable.from(chunks), stream);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const rows = Number(stream.rowCount);
    return { rowsPerSecond: rows / secs, rows };
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    client.release();
  }
}
