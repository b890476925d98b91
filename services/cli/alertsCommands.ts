import { loadConfig } from '../common/config';
import { createPool } from '../common/db';
import { ensureServices } from '../devservers';
import { migrate } from '../../schema/migrate';
import { deliveryStatus, renderDeliveryStatus, requeueFailed } from '../../consumers/alerts';

async function withPool<T>(f: (pool: ReturnType<typeof createPool>, topic: string) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const servers = await ensureServices();
  await migrate(servers.databaseUrl);
  const pool = createPool(servers.databaseUrl, 2);
  try {
    return await f(pool, config.topics.alerts);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** `intent-ledger alerts status [--json]`: delivery state of this deployment's alerts topic. */
export async function runAlertsStatus(options: Record<string, string | true>): Promise<number> {
  const status = await withPool((pool, topic) => deliveryStatus(pool, topic));
  const shown = typeof options.sink === 'string' ? { ...status, sinks: status.sinks.filter((s) => s.sink === options.sink), undelivered: status.undelivered.filter((r) => r.sink === options.sink) } : status;
  process.stdout.write((options.json ? JSON.stringify(shown, null, 2) : renderDeliveryStatus(shown)) + '\n');
  return 0;
}

/** `intent-ledger alerts retry [--sink NAME]`: failed deliveries go back to pending, due now. */
export async function runAlertsRetry(options: Record<string, string | true>): Promise<number> {
  const sink = typeof options.sink === 'string' ? options.sink : null;
  const n = await withPool((pool, topic) => requeueFailed(pool, topic, sink));
  process.stdout.write(`${n} failed deliver${n === 1 ? 'y' : 'ies'} queued again${sink ? ` for sink ${sink}` : ''}\n`);
  return 0;
}
