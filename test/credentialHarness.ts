import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAgentKey, AgentClient, CredentialClient } from '../services/sdk';
import { registerAgentKey } from '../services/registry';
import { startBroker, type Broker } from '../services/broker';
import { startGateway, startRevocationListener, RevocationList, type Gateway, type RevocationListener } from '../services/gateway';
import { createLogger } from '../services/common/logger';
import { createHarness, eventually, type Harness } from './pipelineHarness';
import type { AgentKey } from '../services/sdk';

/**
 * The pipeline of pipelineHarness plus a credential broker and a tool gateway on ephemeral ports, with a policy of
 * the test's own (a short grace window, gateway-only tools), all on the real Kafka and Postgres.
 */
export interface CredentialHarness extends Harness {
  broker: Broker;
  gateway: Gateway;
  gatewayClient: AgentClient;
  revocations: RevocationList;
  brokerKey: AgentKey;
  /** An agent with its key, its SDK client and its credential client. */
  newCredentialedAgent(name: string): Promise<{ key: AgentKey; client: AgentClient; creds: CredentialClient }>;
  /** Declares an intent and waits until the reconciler has given it a credential row. */
  declare(client: AgentClient, allowedTools: string[], opts?: { validForMs?: number }): Promise<string>;
}

export async function createCredentialHarness(policy: Record<string, unknown>): Promise<CredentialHarness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'il-cred-'));
  const policyPath = path.join(dir, 'policy.json');
  writeFileSync(policyPath, JSON.stringify(policy));
  const h = await createHarness({ IL_POLICY: policyPath });
  await h.startIngest();
  await h.startReconciler();
  const log = createLogger('silent');
  const brokerKey = createAgentKey('broker');
  const broker = await startBroker({
    pool: h.pool, key: brokerKey, maxCredentialSeconds: Number(policy.maxCredentialSeconds ?? 900), dpopMaxAgeMs: 60_000, port: 0, log,
    publish: async (n) => void (await h.producer.send({ topic: h.config.topics.revocations, messages: [{ key: n.agentId, value: JSON.stringify(n) }] })),
  });
  const gwKey = createAgentKey(`${h.config.topics.events}-gateway`);
  await registerAgentKey(h.pool, { agentId: gwKey.agentId, publicKey: gwKey.publicKey, role: 'gateway' });
  const gatewayClient = new AgentClient({ key: gwKey, producer: h.producer, topic: h.config.topics.events });
  const revocations = new RevocationList();
  const listener: RevocationListener = await startRevocationListener(h.kafka, h.config.topics.revocations, revocations, log);
  await listener.caughtUp;
  const gateway = await startGateway({ reporter: gatewayClient, brokerPublicKey: brokerKey.publicKey, revocations, catalogue: h.catalogue, dpopMaxAgeMs: 60_000, port: 0, log });
  const stopPipeline = h.stop;
  return Object.assign(h, {
    broker, gateway, gatewayClient, revocations, brokerKey,
    async newCredentialedAgent(name: string) {
      const key = createAgentKey(`${h.config.topics.events}-${name}`);
      await registerAgentKey(h.pool, { agentId: key.agentId, publicKey: key.publicKey });
      return { key, client: new AgentClient({ key, producer: h.producer, topic: h.config.topics.events }), creds: new CredentialClient(key, broker.url) };
    },
    async declare(client: AgentClient, allowedTools: string[], opts: { validForMs?: number } = {}) {
      const { intentId } = await client.declareIntent({ task: 'pay the rent', purpose: 'test', allowedTools, allowedTargets: [{ kind: 'iban', value: 'GB29NWBK60161331926819' }], dataClasses: ['financial'], validForMs: opts.validForMs });
      await eventually(async () => (await h.pool.query('SELECT 1 FROM credentials WHERE intent_id = $1', [intentId])).rows[0], 30_000, `credential for ${intentId}`);
      return intentId;
    },
    async stop() {
      await gateway.close();
      await broker.close();
      await listener.stop().catch(() => undefined);
      await stopPipeline();
    },
  });
}
