import { createCredentialHarness, type CredentialHarness } from './credentialHarness';
import { eventually } from './pipelineHarness';

const GRACE_MS = 1500;
const POLICY = {
  name: 'gateway-test', version: 1, revokeAt: 'high', graceMs: GRACE_MS, maxCredentialSeconds: 300, gatewayOnlyTools: ['send_money'],
  rules: [{ agents: ['*'], tools: ['*'], dataClasses: ['*'], maxWindowSeconds: 86_400 }],
};
const IBAN = 'GB29NWBK60161331926819';
const pay = { recipient: IBAN, amount: 10, subject: 'rent', date: '2026-03-01' };

/**
 * The gateway half of reconciliation on the real Kafka + Postgres pipeline: what the gateway saw against what the
 * agent reported, matched by subject agent and actionId, judged once the grace window has passed.
 */
describe('gateway observations against agent reports (real Kafka + Postgres)', () => {
  let h: CredentialHarness;
  beforeAll(async () => {
    h = await createCredentialHarness(POLICY);
  });
  afterAll(async () => {
    await h.stop();
  });

  const observation = (eventId: unknown) =>
    eventually(async () => (await h.pool.query('SELECT matched_event_id, judged FROM observations WHERE event_id = $1', [eventId])).rows[0], 30_000, `observation ${eventId}`);
  const findings = async (eventId: string) => (await h.pool.query('SELECT reason_code, severity, agent_id, detail FROM drift_findings WHERE action_event_id = $1', [eventId])).rows;
  /** Long enough for the grace window and a sweep or two after it. */
  const pastGrace = () => new Promise((r) => setTimeout(r, GRACE_MS * 2 + 1000));

  it('matches an observed call to the report of the same call: no finding, either order of arrival', async () => {
    const a = await h.newCredentialedAgent('honest');
    const intentId = await h.declare(a.client, ['send_money']);
    const cred = await a.creds.obtain(intentId);
    const called = await a.creds.callTool(h.gateway.url, cred, 'send_money', pay, 'act-honest-1');
    expect(called.status).toBe(200);
    const reported = await a.client.reportAction({ intentId, tool: 'send_money', args: pay, actionId: 'act-honest-1' });
    // Reported before the call (the report is in the ledger first, waiting for an observation).
    const early = await a.client.reportAction({ intentId, tool: 'send_money', args: pay, actionId: 'act-honest-2' });
    await eventually(async () => (await h.pool.query('SELECT 1 FROM awaiting_observations WHERE action_event_id = $1', [early.event.envelope.eventId])).rows[0], 30_000, 'report awaiting');
    const late = await a.creds.callTool(h.gateway.url, cred, 'send_money', pay, 'act-honest-2');
    expect(late.status).toBe(200);

    await eventually(async () => ((await observation(called.body.observationEventId)).matched_event_id === reported.event.envelope.eventId ? true : undefined), 30_000, 'first match');
    await eventually(async () => ((await observation(late.body.observationEventId)).matched_event_id === early.event.envelope.eventId ? true : undefined), 30_000, 'second match');
    await pastGrace();
    for (const e of [called.body.observationEventId as string, late.body.observationEventId as string, reported.event.envelope.eventId, early.event.envelope.eventId]) expect(await findings(e)).toEqual([]);
    expect((await h.pool.query("SELECT status FROM credentials WHERE intent_id = $1", [intentId])).rows[0].status).toBe('active');
  });

  it('finds a call the gateway saw and the agent never reported: UNREPORTED_ACTION, critical, revoked, refused at the gateway', async () => {
    const a = await h.newCredentialedAgent('hider');
    const intentId = await h.declare(a.client, ['send_money']);
    const cred = await a.creds.obtain(intentId);
    const called = await a.creds.callTool(h.gateway.url, cred, 'send_money', pay, 'act-hidden');
    const obsId = called.body.observationEventId as string;
    const f = await eventually(async () => (await findings(obsId))[0], 30_000, 'UNREPORTED_ACTION');
    expect(f).toMatchObject({ reason_code: 'UNREPORTED_ACTION', severity: 'critical', agent_id: a.key.agentId });
    expect(f.detail).toContain(`gateway ${h.gatewayClient.agentId} saw ${a.key.agentId} call send_money (action act-hidden)`);
    expect((await observation(obsId)).judged).toBe(true);
    const rev = (await h.pool.query('SELECT credential_id, reason_code FROM revocations WHERE action_event_id = $1', [obsId])).rows;
    expect(rev).toEqual([{ credential_id: cred.credentialId, reason_code: 'UNREPORTED_ACTION' }]);
    await eventually(async () => (h.revocations.isRevoked(cred.credentialId, '') ? true : undefined), 30_000, 'revocation at the gateway');
    expect((await a.creds.callTool(h.gateway.url, cred, 'send_money', pay)).body.reason_code).toBe('CREDENTIAL_REVOKED');
  });

  it('counts a report whose tool or arguments differ from what the gateway saw as unreported', async () => {
    const a = await h.newCredentialedAgent('liar');
    const intentId = await h.declare(a.client, ['send_money', 'get_balance']);
    const cred = await a.creds.obtain(intentId);
    const called = await a.creds.callTool(h.gateway.url, cred, 'send_money', { ...pay, amount: 5000 }, 'act-lie-1');
    await a.client.reportAction({ intentId, tool: 'send_money', args: pay, actionId: 'act-lie-1' });
    const f = await eventually(async () => (await findings(called.body.observationEventId as string))[0], 30_000, 'UNREPORTED_ACTION for other arguments');
    expect(f.reason_code).toBe('UNREPORTED_ACTION');
    expect(f.detail).toContain('with other arguments');

    const b = await h.newCredentialedAgent('liar2');
    const intentB = await h.declare(b.client, ['send_money', 'get_balance']);
    const credB = await b.creds.obtain(intentB);
    const calledB = await b.creds.callTool(h.gateway.url, credB, 'send_money', pay, 'act-lie-2');
    await b.client.reportAction({ intentId: intentB, tool: 'get_balance', args: {}, actionId: 'act-lie-2' });
    const fb = await eventually(async () => (await findings(calledB.body.observationEventId as string))[0], 30_000, 'UNREPORTED_ACTION for another tool');
    expect(fb.detail).toContain('as a call to get_balance');
  });

  it('finds a reported call to a gateway-only tool that no gateway saw: UNOBSERVED_ACTION; other tools need no observation', async () => {
    const a = await h.newCredentialedAgent('bypass');
    const intentId = await h.declare(a.client, ['send_money', 'get_balance']);
    const bypass = await a.client.reportAction({ intentId, tool: 'send_money', args: pay, actionId: 'act-bypass' });
    const plain = await a.client.reportAction({ intentId, tool: 'get_balance', args: {}, actionId: 'act-plain' });
    const f = await eventually(async () => (await findings(bypass.event.envelope.eventId)).find((x) => x.reason_code === 'UNOBSERVED_ACTION'), 30_000, 'UNOBSERVED_ACTION');
    expect(f).toMatchObject({ severity: 'high', agent_id: a.key.agentId });
    expect((await h.pool.query("SELECT status FROM credentials WHERE intent_id = $1", [intentId])).rows[0].status).toBe('revoked');
    expect(await findings(plain.event.envelope.eventId)).toEqual([]);
    expect((await h.pool.query('SELECT count(*)::int AS n FROM awaiting_observations WHERE agent_id = $1', [a.key.agentId])).rows[0].n).toBe(0);
  });

  it('believes observations only from registered gateways: one signed by an agent is NOT_A_GATEWAY against its signer', async () => {
    const victim = await h.newCredentialedAgent('framed');
    const intentId = await h.declare(victim.client, ['get_balance']);
    const forger = await h.newCredentialedAgent('forger');
    const forged = await forger.client.observeAction({
      subjectAgentId: victim.key.agentId, intentId, actionId: 'act-framed', tool: 'get_balance', argsDigest: '0'.repeat(64), targets: [], credentialId: 'cred_x', outcome: 'ok',
    });
    const f = await eventually(async () => (await findings(forged.envelope.eventId))[0], 30_000, 'NOT_A_GATEWAY');
    expect(f).toMatchObject({ reason_code: 'NOT_A_GATEWAY', agent_id: forger.key.agentId });
    expect((await h.pool.query('SELECT count(*)::int AS n FROM observations WHERE event_id = $1', [forged.envelope.eventId])).rows[0].n).toBe(0);
    await pastGrace();
    expect((await h.pool.query('SELECT count(*)::int AS n FROM drift_findings WHERE agent_id = $1', [victim.key.agentId])).rows[0].n).toBe(0);
  });
});
