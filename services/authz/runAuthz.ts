import path from 'node:path';
import { loadConfig, ConfigError } from '../common/config';
import { createLogger } from '../common/logger';
import { createKafka, ensureTopics } from '../common/kafka';
import { createPool } from '../common/db';
import { ensureServices } from '../devservers';
import { loadConfig as loadDevServersConfig } from '../devservers/config';
import { preflight } from '../common/preflight';
import { migrate } from '../../schema/migrate';
import { loadReconcilePolicy } from '../../consumers/reconciler/reconcileNotice';
import { createAgentProducer } from '../sdk';
import { openServiceSigner } from './serviceSigner';
import { startAuthzService } from './authzService';

/** `intent-ledger authz`: the request-time authorisation endpoint as a long-lived process. */
export async function runAuthzCommand(): Promise<number> {
  const config = loadConfig();
  if (config.authz.token === null) {
    throw new ConfigError('IL_AUTHZ_TOKEN is not set: the authorisation service answers only callers that present it (e.g. `export IL_AUTHZ_TOKEN=$(openssl rand -hex 32)`)');
  }
  const log = createLogger(config.logLevel, { component: 'authz' });
  const rules = loadReconcilePolicy(config);
  const servers = await ensureServices();
  await preflight(servers);
  await migrate(servers.databaseUrl);
  const kafka = createKafka(servers.kafkaBrokers, `${config.clientId}-authz`, config.logLevel);
  await ensureTopics(kafka, config);
  const pool = createPool(servers.databaseUrl);
  const producer = createAgentProducer(kafka);
  await producer.connect();
  const keyFile = config.authz.keyFile ?? path.join(loadDevServersConfig().cacheDir, 'authz-key.json');
  const signer = await openServiceSigner({ pool, producer, topic: config.topics.events, agentId: config.authz.agentId, keyFile, catalogue: rules.catalogue });
  const service = await startAuthzService({ pool, catalogue: rules.catalogue, signer, token: config.authz.token, host: config.authz.host, port: config.authz.port, log });
  log.info('authorisation service listening', { url: service.url, agentId: config.authz.agentId });
  process.stdout.write(`ready authz ${service.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await service.close();
  await producer.disconnect().catch(() => undefined);
  await pool.end().catch(() => undefined);
  log.info('authorisation service stopped');
  return 0;
}
