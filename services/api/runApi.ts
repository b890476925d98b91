import path from 'node:path';
import { loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { createKafka, ensureTopics } from '../common/kafka';
import { createPool } from '../common/db';
import { ensureServices } from '../devservers';
import { loadConfig as loadDevServersConfig } from '../devservers/config';
import { preflight } from '../common/preflight';
import { migrate } from '../../schema/migrate';
import { createAgentProducer } from '../sdk';
import { openServiceSigner } from '../authz/serviceSigner';
import { loadTokens } from './analystTokens';
import { startApiServer } from './apiServer';

export const DASHBOARD_DIR = path.join(__dirname, '..', '..', 'dashboards', 'web');

export function tokensFileOf(config: ReturnType<typeof loadConfig>): string {
  return config.api.tokensFile ?? path.join(loadDevServersConfig().cacheDir, 'api-tokens.json');
}

/** `intent-ledger api`: the analyst API and the dashboard, as a long-lived process. */
export async function runApiCommand(): Promise<number> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, { component: 'api' });
  const tokensFile = tokensFileOf(config);
  loadTokens(tokensFile); // a damaged file fails now, not at the first request
  const servers = await ensureServices();
  await preflight(servers);
  await migrate(servers.databaseUrl);
  const kafka = createKafka(servers.kafkaBrokers, `${config.clientId}-api`, config.logLevel);
  await ensureTopics(kafka, config);
  const pool = createPool(servers.databaseUrl);
  const producer = createAgentProducer(kafka);
  await producer.connect();
  const keyFile = config.api.keyFile ?? path.join(loadDevServersConfig().cacheDir, 'api-key.json');
  const signer = await openServiceSigner({ pool, producer, topic: config.topics.events, agentId: config.api.agentId, keyFile });
  const api = await startApiServer({
    pool, producer, revocationsTopic: config.topics.revocations, signer, tokens: () => loadTokens(tokensFile), dashboardDir: DASHBOARD_DIR,
    host: config.api.host, port: config.api.port, log,
  });
  log.info('analyst API listening', { url: api.url, tokensFile });
  process.stdout.write(`ready api ${api.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await api.close();
  await producer.disconnect().catch(() => undefined);
  await pool.end().catch(() => undefined);
  log.info('analyst API stopped');
  return 0;
}
