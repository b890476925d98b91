import { loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { createKafka, ensureTopics } from '../common/kafka';
import { createPool } from '../common/db';
import { ensureServices } from '../devservers';
import { preflight } from '../common/preflight';
import { migrate } from '../../schema/migrate';
import { startIngestConsumer } from '../../consumers/ingest';
import { startReconciler } from '../../consumers/reconciler/reconcilerConsumer';
import { loadReconcilePolicy } from '../../consumers/reconciler/reconcileNotice';
import { startAlertsConsumer, loadSinksConfig } from '../../consumers/alerts';

/** Runs one consumer as a long-lived process, stopping cleanly on SIGINT/SIGTERM. */
export async function runConsumerCommand(which: 'ingest' | 'reconcile' | 'alerts'): Promise<number> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, { component: which });
  // Catalogue, policy and sinks files are checked before any server is touched: a bad file fails at once, naming
  // the problem (and a sink's missing key).
  const rules = which === 'reconcile' ? loadReconcilePolicy(config) : null;
  const sinks = which === 'alerts' ? loadSinksConfig(config.alertSinksPath) : null;
  const servers = await ensureServices();
  await preflight(servers);
  await migrate(servers.databaseUrl);
  const kafka = createKafka(servers.kafkaBrokers, `${config.clientId}-${which}`, config.logLevel);
  await ensureTopics(kafka, config);
  // The reconciler works several agents per partition at once (RECONCILE_LANES), each holding a connection.
  const pool = createPool(servers.databaseUrl, which === 'reconcile' ? 16 : 10);
  const running =
    which === 'ingest'
      ? await startIngestConsumer(kafka, pool, config, log)
      : which === 'reconcile'
        ? await startReconciler(kafka, pool, config, rules!, log)
        : await startAlertsConsumer(kafka, pool, config, sinks!, servers.kafkaBrokers, log);
  if (sinks) log.info(sinks.sinks.length > 0 ? 'alert sinks' : 'no alert sinks configured (IL_ALERT_SINKS): alerts are recorded only', { sinks: sinks.sinks.map((s) => s.name), file: sinks.source });
  await running.joined;
  log.info(`${which} consumer running`, { brokers: servers.kafkaBrokers });
  // A parent process (the demo) waits for this line before it starts producing.
  process.stdout.write(`ready ${which}\n`);
  const signalled = new Promise<null>((resolve) => {
    process.once('SIGINT', () => resolve(null));
    process.once('SIGTERM', () => resolve(null));
  });
  // A consumer kafkajs has given up on reads nothing more: exit non-zero so a supervisor restarts the process.
  const error = await Promise.race([signalled, running.failed]);
  await running.stop().catch(() => undefined);
  await pool.end().catch(() => undefined);
  log.info(`${which} consumer stopped`, { metrics: running.metrics.snapshot(), ...(error ? { error: error.message } : {}) });
  return error ? 1 : 0;
}
