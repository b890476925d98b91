import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migrate, listMigrations } from '../schema/migrate';
import { createPrisma } from '../services/common/db';
import { REASON_CODES, SEVERITIES } from '../schema/reasons';
import { ReasonCode as PrismaReasonCode } from '../schema/generated/client';

/**
 * schema.prisma is not what creates the tables (our SQL migrations are); this proves the two agree, by having the
 * generated client write and read every model on a database made fresh from the migrations.
 */
describe('schema: SQL migrations and schema.prisma agree', () => {
  const base = process.env.DATABASE_URL!;
  const name = `il_schema_${randomBytes(4).toString('hex')}`;
  const url = (() => {
    const u = new URL(base);
    u.pathname = `/${name}`;
    return u.toString();
  })();
  let admin: Client;

  beforeAll(async () => {
    admin = new Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('applies every migration once, and a second run applies none', async () => {
    const first = await migrate(url);
    expect(first).toEqual(listMigrations().map((m) => m.name));
    expect(await migrate(url)).toEqual([]);
  });

  it('has the same reason codes and severities in TypeScript, Prisma and Postgres', async () => {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      const enumValues = async (t: string) =>
        (await c.query<{ v: string }>(`SELECT unnest(enum_range(NULL::${t}))::text AS v`)).rows.map((r) => r.v);
      expect(await enumValues('reason_code')).toEqual([...REASON_CODES]);
      expect(await enumValues('severity')).toEqual([...SEVERITIES]);
      expect(Object.values(PrismaReasonCode)).toEqual([...REASON_CODES]);
    } finally {
      await c.end();
    }
  });

  it('writes and reads every model through the generated Prisma client', async () => {
    const prisma = createPrisma(url);
    try {
      const now = new Date('2026-01-02T03:04:05.678Z');
      const pk = Buffer.alloc(32, 7);
      await prisma.agent.create({ data: { agentId: 'a1', displayName: 'first agent' } });
      await prisma.agentKey.create({ data: { keyId: 'k1', agentId: 'a1', publicKey: pk } });
      await prisma.agentHead.create({ data: { agentId: 'a1', lastSeq: 1n, lastHash: 'ab'.repeat(32) } });
      await prisma.ledgerEvent.create({
        data: {
          eventId: 'e1', agentId: 'a1', keyId: 'k1', seq: 1n, type: 'intent.declared', prevHash: null, eventHash: 'ab'.repeat(32), ts: now,
          payload: { intentId: 'i1', nested: { list: [1, 'two', null] } }, signature: 'sig', raw: Buffer.from('{}'), rawSha256: Buffer.alloc(32, 1), kafkaTopic: 'il.events',
          kafkaPartition: 0, kafkaOffset: 42n, producedAt: now, leafIndex: 0n,
        },
      });
      await prisma.rejectedEvent.create({
        data: { reasonCode: 'SIG_INVALID', detail: 'bad', raw: Buffer.from([0, 255, 1]), rawSha256: Buffer.alloc(32, 2), kafkaTopic: 'il.events', kafkaPartition: 1, kafkaOffset: 7n, kafkaKey: Buffer.from('a1') },
      });
      await prisma.integrityFinding.create({ data: { agentId: 'a1', reasonCode: 'SEQ_GAP', severity: 'high', detail: 'gap', expectedSeq: 2n, observedSeq: 5n } });
      await prisma.intent.create({
        data: {
          intentId: 'i1', agentId: 'a1', eventId: 'e1', task: 'pay the bill', purpose: 'pay', allowedTools: ['read_file', 'send_money'],
          allowedTargets: [{ kind: 'iban', value: 'UK12' }], dataClasses: ['financial'], notBefore: now, notAfter: new Date(now.getTime() + 60_000), declaredAt: now,
        },
      });
      await prisma.intent.create({
        data: {
          intentId: 'i2', agentId: 'a1', eventId: 'e3', task: 'pay part', purpose: 'pay', allowedTools: ['send_money'], allowedTargets: [{ kind: 'iban', value: 'UK*', match: 'pattern' }],
          dataClasses: ['financial'], notBefore: now, notAfter: now, declaredAt: now, parentIntentId: 'i1', rootIntentId: 'i1', approvalRef: 'CHG-1', maxActions: 3,
          status: 'denied', deniedFor: 'DELEGATION_ESCALATION',
        },
      });
      await prisma.pendingAction.create({ data: { eventId: 'e4', intentId: 'i9', agentId: 'a1', judgeAfter: now } });
      await prisma.authorizationDecision.create({
        data: { eventId: 'e5', decidedBy: 'svc', subjectAgentId: 'a1', intentId: 'i1', tool: 'send_money', decision: 'deny', reasonCodes: ['TARGET_NOT_ALLOWED', 'BUDGET_EXCEEDED'], reasons: [{ code: 'TARGET_NOT_ALLOWED' }], decidedAt: now },
      });
      await prisma.action.create({
        data: { eventId: 'e2', actionId: 'x1', agentId: 'a1', intentId: 'i1', tool: 'send_money', argsDigest: 'cd'.repeat(32), targets: [{ kind: 'iban', value: 'US13' }], outcome: 'ok', ts: now, inScope: false },
      });
      const finding = await prisma.driftFinding.create({
        data: { actionEventId: 'e2', agentId: 'a1', intentId: 'i1', reasonCode: 'TARGET_NOT_ALLOWED', severity: 'critical', detail: 'iban US13', tool: 'send_money' },
      });
      await prisma.credential.create({ data: { credentialId: 'c1', agentId: 'a1', intentId: 'i1', keyId: 'k1', issuedAt: now, expiresAt: now } });
      await prisma.revocation.create({
        data: {
          credentialId: 'c1', agentId: 'a1', intentId: 'i1', findingId: finding.id, actionEventId: 'e2', reasonCode: 'TARGET_NOT_ALLOWED',
          severity: 'critical', actionProducedAt: now, revokedAt: new Date(now.getTime() + 12), latencyMs: 12.5,
        },
      });
      // Broker, gateway and enrolment (0005): a gateway agent, an attested key, a token, an observation and a report awaiting one.
      await prisma.agent.create({ data: { agentId: 'gw1', role: 'gateway' } });
      await prisma.attestor.create({ data: { keyId: 'ed25519:att', name: 'runtime attestor', publicKey: pk } });
      await prisma.agentKey.create({ data: { keyId: 'k3', agentId: 'a1', publicKey: Buffer.alloc(32, 9), attestorKeyId: 'ed25519:att', attestation: { runtime: 'node', host: 'h1', token: 'softhsm2' } } });
      await prisma.agentKey.update({ where: { keyId: 'k3' }, data: { status: 'retired', retiredAt: now, replacedBy: 'k1' } });
      await prisma.credentialToken.create({ data: { tokenId: 'tok1', credentialId: 'c1', agentId: 'a1', intentId: 'i1', keyId: 'k3', jkt: 'thumb', issuedAt: now, expiresAt: now } });
      await prisma.observation.create({
        data: { eventId: 'e6', gatewayId: 'gw1', subjectAgentId: 'a1', intentId: 'i1', actionId: 'x1', tool: 'send_money', argsDigest: 'cd'.repeat(32), targets: [], credentialId: 'c1', ts: now, judgeAfter: now },
      });
      await prisma.awaitingObservation.create({ data: { actionEventId: 'e2', agentId: 'a1', intentId: 'i1', actionId: 'x1', tool: 'send_money', argsDigest: 'cd'.repeat(32), judgeAfter: now } });

      // The migration made the tip row; the ledger key and a tree head over leaf 0.
      await prisma.ledgerTip.update({ where: { id: 1 }, data: { nextLeafIndex: 1n } });
      await prisma.ledgerKey.create({ data: { keyId: 'ed25519:ledger', publicKey: pk } });
      await prisma.treeHead.create({
        data: { treeSize: 1n, rootHash: 'ef'.repeat(32), signedAt: now, keyId: 'ed25519:ledger', signature: 'sig', frontier: ['ef'.repeat(32)] },
      });

      // Alert delivery: what was read from an alerts topic, the intake offset, and the outbox.
      const alert = { type: 'drift.finding', findingId: String(finding.id), agentId: 'a1', intentId: 'i1', reasonCode: 'TARGET_NOT_ALLOWED', severity: 'critical' };
      await prisma.alertReceived.create({ data: { sourceTopic: 'il.alerts', kafkaPartition: 0, kafkaOffset: 3n, findingId: String(finding.id), alert } });
      await prisma.alertReceived.create({ data: { sourceTopic: 'il.alerts', kafkaPartition: 0, kafkaOffset: 4n, problem: 'not a drift alert', raw: Buffer.from('nope') } });
      await prisma.alertIntakeOffset.create({ data: { groupId: 'il.alert-delivery', topic: 'il.alerts', kafkaPartition: 0, nextOffset: 5n } });
      await prisma.alertDelivery.create({
        data: {
          deliveryId: 'dlv_1', sourceTopic: 'il.alerts', sink: 'soc', dedupeKey: '["a1","TARGET_NOT_ALLOWED","i1"]', findingIds: [String(finding.id)], alert, severity: 'critical',
          firstSeenAt: now, lastSeenAt: now, windowEndsAt: now, nextAttemptAt: now,
        },
      });

      const agent = await prisma.agent.findUniqueOrThrow({ where: { agentId: 'a1' }, include: { keys: { orderBy: { keyId: 'asc' } }, head: true } });
      expect(agent.displayName).toBe('first agent');
      expect(Buffer.from(agent.keys[0]!.publicKey).equals(pk)).toBe(true);
      expect(agent.keys[0]!.status).toBe('active');
      expect(agent.head!.lastSeq).toBe(1n);
      const ev = await prisma.ledgerEvent.findUniqueOrThrow({ where: { eventId: 'e1' } });
      expect(ev.payload).toEqual({ intentId: 'i1', nested: { list: [1, 'two', null] } });
      expect(ev.kafkaOffset).toBe(42n);
      expect(ev.ts.toISOString()).toBe(now.toISOString());
      expect(ev.position).toBeGreaterThan(0n);
      expect(ev.leafIndex).toBe(0n);
      const tip = await prisma.ledgerTip.findUniqueOrThrow({ where: { id: 1 } });
      expect(tip.logId).toMatch(/^il-log:[0-9a-f-]{36}$/);
      expect(tip.nextLeafIndex).toBe(1n);
      const head = await prisma.treeHead.findUniqueOrThrow({ where: { treeSize: 1n }, include: { key: true } });
      expect(head.frontier).toEqual(['ef'.repeat(32)]);
      expect(head.signedAt.toISOString()).toBe(now.toISOString());
      expect(Buffer.from(head.key.publicKey).equals(pk)).toBe(true);
      const rej = await prisma.rejectedEvent.findFirstOrThrow({ where: { reasonCode: 'SIG_INVALID' } });
      expect([...rej.raw]).toEqual([0, 255, 1]);
      expect((await prisma.integrityFinding.findFirstOrThrow()).observedSeq).toBe(5n);
      const intent = await prisma.intent.findUniqueOrThrow({ where: { intentId: 'i1' } });
      expect(intent.allowedTools).toEqual(['read_file', 'send_money']);
      expect(intent.status).toBe('open');
      const child = await prisma.intent.findUniqueOrThrow({ where: { intentId: 'i2' } });
      expect([child.parentIntentId, child.rootIntentId, child.approvalRef, child.maxActions, child.status, child.deniedFor]).toEqual(['i1', 'i1', 'CHG-1', 3, 'denied', 'DELEGATION_ESCALATION']);
      expect((await prisma.pendingAction.findUniqueOrThrow({ where: { eventId: 'e4' } })).arrivedAt).toBeInstanceOf(Date);
      expect((await prisma.authorizationDecision.findUniqueOrThrow({ where: { eventId: 'e5' } })).reasonCodes).toEqual(['TARGET_NOT_ALLOWED', 'BUDGET_EXCEEDED']);
      expect((await prisma.action.findUniqueOrThrow({ where: { eventId: 'e2' } })).inScope).toBe(false);
      expect((await prisma.driftFinding.findFirstOrThrow()).severity).toBe('critical');
      expect((await prisma.credential.findUniqueOrThrow({ where: { credentialId: 'c1' } })).status).toBe('active');
      expect((await prisma.revocation.findFirstOrThrow()).latencyMs).toBe(12.5);
      expect((await prisma.agent.findUniqueOrThrow({ where: { agentId: 'gw1' } })).role).toBe('gateway');
      expect((await prisma.agent.findUniqueOrThrow({ where: { agentId: 'a1' } })).role).toBe('agent');
      const attested = await prisma.agentKey.findUniqueOrThrow({ where: { keyId: 'k3' }, include: { attestor: true } });
      expect([attested.attestor!.name, attested.attestation]).toEqual(['runtime attestor', { runtime: 'node', host: 'h1', token: 'softhsm2' }]);
      expect([attested.status, attested.replacedBy]).toEqual(['retired', 'k1']);
      const cred = await prisma.credential.findUniqueOrThrow({ where: { credentialId: 'c1' }, include: { tokens: true } });
      expect(cred.tokens.map((t) => [t.tokenId, t.jkt, t.revokedAt])).toEqual([['tok1', 'thumb', null]]);
      const obs = await prisma.observation.findUniqueOrThrow({ where: { eventId: 'e6' } });
      expect([obs.judged, obs.matchedEventId, obs.gatewayId]).toEqual([false, null, 'gw1']);
      expect((await prisma.awaitingObservation.findUniqueOrThrow({ where: { actionEventId: 'e2' } })).tool).toBe('send_money');

      const received = await prisma.alertReceived.findMany({ where: { sourceTopic: 'il.alerts' }, orderBy: { kafkaOffset: 'asc' } });
      expect(received.map((r) => [r.findingId, r.problem])).toEqual([[String(finding.id), null], [null, 'not a drift alert']]);
      expect(received[0]!.alert).toEqual(alert);
      expect([...received[1]!.raw!]).toEqual([...Buffer.from('nope')]);
      expect((await prisma.alertIntakeOffset.findFirstOrThrow()).nextOffset).toBe(5n);
      const delivery = await prisma.alertDelivery.findUniqueOrThrow({ where: { deliveryId: 'dlv_1' } });
      expect([delivery.status, delivery.attempts, delivery.alertCount, delivery.severity, delivery.lastError, delivery.deliveredAt]).toEqual(['pending', 0, 1, 'critical', null, null]);

      // The database, not only the client, holds the line on what the ledger may contain.
      await expect(prisma.ledgerEvent.create({
        data: { eventId: 'e1', agentId: 'a1', keyId: 'k1', seq: 2n, type: 't', eventHash: 'x', ts: now, payload: {}, signature: 's', raw: Buffer.from(''), rawSha256: Buffer.alloc(32), kafkaTopic: 't', kafkaPartition: 0, kafkaOffset: 1n, producedAt: now, leafIndex: 1n },
      })).rejects.toThrow();
      // Two events cannot share a leaf, a tree head needs a known ledger key, and there is only one tip.
      await expect(prisma.ledgerEvent.create({
        data: { eventId: 'e9', agentId: 'a1', keyId: 'k1', seq: 9n, type: 't', eventHash: 'x', ts: now, payload: {}, signature: 's', raw: Buffer.from(''), rawSha256: Buffer.alloc(32), kafkaTopic: 't', kafkaPartition: 0, kafkaOffset: 9n, producedAt: now, leafIndex: 0n },
      })).rejects.toThrow();
      await expect(prisma.treeHead.create({ data: { treeSize: 2n, rootHash: 'ef'.repeat(32), signedAt: now, keyId: 'ed25519:nobody', signature: 's', frontier: [] } })).rejects.toThrow();
      await expect(prisma.ledgerTip.create({ data: { id: 2, logId: 'x', nextLeafIndex: 0n } })).rejects.toThrow();
      // An alert is recorded once per topic; a record is an alert or a problem, never both; a delivery has a known status.
      await expect(prisma.alertReceived.create({ data: { sourceTopic: 'il.alerts', kafkaPartition: 1, kafkaOffset: 9n, findingId: String(finding.id), alert } })).rejects.toThrow();
      await expect(prisma.alertReceived.create({ data: { sourceTopic: 'il.alerts', kafkaPartition: 1, kafkaOffset: 9n, findingId: '77', alert, problem: 'both' } })).rejects.toThrow();
      await expect(prisma.alertDelivery.update({ where: { deliveryId: 'dlv_1' }, data: { status: 'lost' } })).rejects.toThrow();
      await expect(prisma.agentKey.create({ data: { keyId: 'k2', agentId: 'a1', publicKey: Buffer.alloc(31) } })).rejects.toThrow();
      // Only known roles; a token names a credential that exists; an attested key names a known attestor.
      await expect(prisma.agent.create({ data: { agentId: 'x1', role: 'admin' } })).rejects.toThrow();
      await expect(prisma.credentialToken.create({ data: { tokenId: 'tok2', credentialId: 'nope', agentId: 'a1', intentId: 'i1', keyId: 'k3', jkt: 't', issuedAt: now, expiresAt: now } })).rejects.toThrow();
      await expect(prisma.agentKey.create({ data: { keyId: 'k4', agentId: 'a1', publicKey: Buffer.alloc(32, 4), attestorKeyId: 'ed25519:nobody' } })).rejects.toThrow();
    } finally {
      await prisma.$disconnect();
    }
  });
});
