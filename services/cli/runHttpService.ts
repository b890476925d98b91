import path from 'node:path';
import { existsSync } from 'node:fs';
import { loadConfig, ConfigError } from '../common/config';
import { createLogger } from '../common/logger';
import { createKafka, ensureTopics } from '../common/kafka';
import { createPool } from '../common/db';
import { ensureServices } from '../devservers';
import { loadConfig as loadDevServersConfig } from '../devservers/config';
import { preflight } from '../common/preflight';
import { migrate } from '../../schema/migrate';
import { loadReconcilePolicy } from '../../consumers/reconciler/reconcileNotice';
import { loadCatalogue } from '../../schema/catalogue';
import { decode as b64uDecode } from '../../schema/crypto/base64url';
import { AgentClient, createAgentProducer, loadOrCreateAgentKey } from '../sdk';
import { registerAgentKey } from '../registry';
import { startBroker } from '../broker';
import { startGateway, startRevocationListener, RevocationList } from '../gateway';

/** Runs the credential broker or the demo tool gateway until SIGINT/SIGTERM. */
export async function runHttpServiceCommand(which: 'broker' | 'gateway'): Promise<number> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, { component: which });
  const rules = loadReconcilePolicy(config);
  const cacheDir = loadDevServersConfig().cacheDir;
  const brokerKeyFile = config.broker.keyFile ?? path.join(cacheDir, 'broker-key.json');
  const servers = await ensureServices();
  await preflight(servers);
  await migrate(servers.databaseUrl);
  const kafka = createKafka(servers.kafkaBrokers, `${config.clientId}-${which}`, config.logLevel);
  await ensureTopics(kafka, config);
  const pool = createPool(servers.databaseUrl);
  const producer = createAgentProducer(kafka);
  await producer.connect();
  const closers: Array<() => Promise<unknown>> = [];
  let url: string;
  if (which === 'broker') {
    const key = loadOrCreateAgentKey(brokerKeyFile, 'broker');
    const broker = await startBroker({
      pool, key, maxCredentialSeconds: rules.policy!.maxCredentialSeconds, dpopMaxAgeMs: config.dpopMaxAgeMs, host: config.broker.host, port: config.broker.port, url: config.broker.url, log,
      publish: async (n) => void (await producer.send({ topic: config.topics.revocations, messages: [{ key: n.agentId, value: JSON.stringify(n) }] })),
    });
    closers.push(() => broker.close());
    url = broker.url;
  } else {
    const brokerPublicKey = config.broker.publicKey ? b64uDecode(config.broker.publicKey) : brokerKeyFromFile(brokerKeyFile);
    const key = loadOrCreateAgentKey(config.gateway.keyFile ?? path.join(cacheDir, 'gateway-key.json'), config.gateway.agentId);
    await registerAgentKey(pool, { agentId: key.agentId, publicKey: key.publicKey, role: 'gateway' });
    // The gateway's own chain goes on from its last ledgered event.
    const head = (await pool.query<{ last_seq: string; last_hash: string }>('SELECT last_seq, last_hash FROM agent_heads WHERE agent_id = $1', [key.agentId])).rows[0];
    const reporter = new AgentClient({ key, producer, topic: config.topics.events, resume: head && Number(head.last_seq) > 0 ? { seq: Number(head.last_seq), hash: head.last_hash } : undefined });
    const list = new RevocationList();
    const listener = await startRevocationListener(kafka, config.topics.revocations, list, log);
    closers.push(() => listener.stop());
    await listener.caughtUp;
    const gateway = await startGateway({ reporter, brokerPublicKey, revocations: list, catalogue: loadCatalogue(config.cataloguePath), dpopMaxAgeMs: config.dpopMaxAgeMs, host: config.gateway.host, port: config.gateway.port, url: config.gateway.url, log });
    closers.unshift(() => gateway.close());
    url = gateway.url;
  }
  log.info(`${which} listening`, { url });
  process.stdout.write(`ready ${which} ${url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  for (const c of closers) await c().catch(() => undefined);
  await producer.disconnect().catch(() => undefined);
  await pool.end().catch(() => undefined);
  return 0;
}

/** The broker's public key from its key file (the gateway runs beside the broker), without ever creating one. */
function brokerKeyFromFile(file: string): Uint8Array {
  if (!existsSync(file)) throw new ConfigError(`the gateway needs the broker's public key: set IL_BROKER_PUBLIC_KEY, or start the broker first so that ${file} exists`);
  return loadOrCreateAgentKey(file, 'broker').publicKey;
}
