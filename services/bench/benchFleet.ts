import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { AgentClient, SentEvent, AgentKey, keyIdFor } from '../sdk';

/**
 * A fleet of simulated agents for the benchmark. Each agent's events are signed before the clock starts (in a real
 * fleet every agent signs on its own host), with Node's Ed25519 so that preparing 10^4-10^5 events takes seconds.
 */
export interface FleetAgent {
  key: AgentKey;
  events: SentEvent[];
}

export function nodeAgentKey(agentId: string): AgentKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const pk = new Uint8Array(raw);
  return { agentId, keyId: keyIdFor(pk), publicKey: pk, sign: (m: Uint8Array) => new Uint8Array(nodeSign(null, m, privateKey)) };
}

export function buildFleet(prefix: string, agents: number, eventsPerAgent: number): FleetAgent[] {
  const fleet: FleetAgent[] = [];
  const noProducer = {} as Producer;
  for (let a = 0; a < agents; a++) {
    const key = nodeAgentKey(`${prefix}-${String(a).padStart(5, '0')}`);
    const client = new AgentClient({ key, producer: noProducer, topic: 'unused' });
    const events: SentEvent[] = [];
    const now = Date.now();
    // Unique per fleet: an intent id is global, and a second declaration of a taken one is refused.
    const intentId = `int_${prefix}_${a}`;
    events.push(
      client.sign('intent.declared', {
        intentId,
        task: 'Summarise the unread emails and file the invoices they mention',
        purpose: 'benchmark',
        allowedTools: ['get_unread_emails', 'search_files', 'append_to_file'],
        allowedTargets: [{ kind: 'file', value: `invoices-${a}.txt` }],
        dataClasses: ['email', 'files'],
        window: { notBefore: new Date(now).toISOString(), notAfter: new Date(now + 3_600_000).toISOString() },
      }),
    );
    for (let i = 1; i < eventsPerAgent; i++) {
      const args = { file_id: `invoices-${a}.txt`, content: `invoice ${i}: ${'x'.repeat(64)}` };
      events.push(
        client.sign('action.reported', {
          actionId: `act_${a}_${i}`,
          intentId,
          tool: 'append_to_file',
          args,
          argsDigest: '0'.repeat(64),
          targets: [{ kind: 'file', value: `invoices-${a}.txt` }],
          outcome: 'ok',
        }),
      );
    }
    fleet.push({ key, events });
  }
  return fleet;
}
