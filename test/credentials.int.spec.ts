import { createProof } from '../services/credentials';
import { CredentialClient, CredentialRefused } from '../services/sdk';
import { createAgentKey } from '../services/sdk';
import { createCredentialHarness, type CredentialHarness } from './credentialHarness';
import { eventually } from './pipelineHarness';

const POLICY = {
  name: 'broker-test', version: 1, revokeAt: 'high', graceMs: 30_000, maxCredentialSeconds: 120, gatewayOnlyTools: [],
  rules: [{ agents: ['*'], tools: ['*'], dataClasses: ['*'], maxWindowSeconds: 86_400 }],
};
const IBAN = 'GB29NWBK60161331926819';
const pay = { recipient: IBAN, amount: 10, subject: 'rent', date: '2026-03-01' };

/**
 * Just-in-time credentials end to end on the real Kafka and Postgres: an intent declared through the ledger, a
 * credential from the broker bound to the agent's key, calls through the gateway, and the five ways a call must
 * be refused there.
 */
describe('credential broker and tool gateway (real Kafka + Postgres)', () => {
  let h: CredentialHarness;
  beforeAll(async () => {
    h = await createCredentialHarness(POLICY);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('issues a credential for a declared intent, bound to the key, which the gateway accepts and reports as an observed action', async () => {
    const a = await h.newCredentialedAgent('happy');
    const intentId = await h.declare(a.client, ['send_money', 'get_balance'], { validForMs: 600_000 });
    const cred = await a.creds.obtain(intentId);
    // TTL: the intent's window (10 min) is longer than the policy's maximum (120 s).
    const ttl = (cred.expiresAt.getTime() - Date.now()) / 1000;
    expect(ttl).toBeGreaterThan(110);
    expect(ttl).toBeLessThanOrEqual(121);
    const short = await a.creds.obtain(intentId, 5);
    expect((short.expiresAt.getTime() - Date.now()) / 1000).toBeLessThanOrEqual(6);

    const r = await a.creds.callTool(h.gateway.url, cred, 'send_money', pay, 'act-happy-1');
    expect(r.status).toBe(200);
    expect(r.body.actionId).toBe('act-happy-1');
    const row = await eventually(async () => (await h.pool.query('SELECT agent_id, type, payload FROM ledger_events WHERE event_id = $1', [r.body.observationEventId])).rows[0], 30_000, 'observation ledgered');
    expect(row.agent_id).toBe(h.gatewayClient.agentId);
    expect(row.type).toBe('action.observed');
    expect(row.payload).toMatchObject({ subjectAgentId: a.key.agentId, intentId, actionId: 'act-happy-1', tool: 'send_money', credentialId: cred.credentialId, targets: [{ kind: 'iban', value: IBAN }] });

    const info = await a.creds.introspect(cred.accessToken);
    expect(info).toMatchObject({ active: true, token_type: 'DPoP', sub: a.key.agentId, intent_id: intentId, credential_id: cred.credentialId });
    expect((info.cnf as { jkt: string }).jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a stolen credential used without the key, and does not issue one to another agent', async () => {
    const a = await h.newCredentialedAgent('victim');
    const thief = await h.newCredentialedAgent('thief');
    const intentId = await h.declare(a.client, ['send_money']);
    const cred = await a.creds.obtain(intentId);
    const stolen = await thief.creds.callTool(h.gateway.url, cred, 'send_money', pay);
    expect([stolen.status, stolen.body.reason_code]).toEqual([401, 'PROOF_KEY_MISMATCH']);
    const bare = await fetch(`${h.gateway.url}/tools/send_money`, { method: 'POST', headers: { authorization: `DPoP ${cred.accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ args: pay }) });
    expect([bare.status, ((await bare.json()) as { reason_code: string }).reason_code]).toEqual([401, 'PROOF_INVALID']);
    const asBearer = await fetch(`${h.gateway.url}/tools/send_money`, { method: 'POST', headers: { authorization: `Bearer ${cred.accessToken}` }, body: '{}' });
    expect(asBearer.status).toBe(401);
    await expect(thief.creds.obtain(intentId)).rejects.toMatchObject({ reason: 'INTENT_AGENT_MISMATCH' });
    // An unregistered key cannot obtain anything either.
    await expect(new CredentialClient(createAgentKey('nobody'), h.broker.url).obtain(intentId)).rejects.toBeInstanceOf(CredentialRefused);
  });

  it('refuses a replayed proof', async () => {
    const a = await h.newCredentialedAgent('replay');
    const cred = await a.creds.obtain(await h.declare(a.client, ['get_balance']));
    const url = `${h.gateway.url}/tools/get_balance`;
    const proof = createProof(a.key, { htm: 'POST', htu: url, accessToken: cred.accessToken });
    expect((await a.creds.callTool(h.gateway.url, cred, 'get_balance', {}, undefined, proof)).status).toBe(200);
    const again = await a.creds.callTool(h.gateway.url, cred, 'get_balance', {}, undefined, proof);
    expect([again.status, again.body.reason_code]).toEqual([401, 'PROOF_REPLAYED']);
  });

  it('refuses a proof made for another target or another method', async () => {
    const a = await h.newCredentialedAgent('binding');
    const cred = await a.creds.obtain(await h.declare(a.client, ['get_balance', 'send_money']));
    const forBalance = createProof(a.key, { htm: 'POST', htu: `${h.gateway.url}/tools/get_balance`, accessToken: cred.accessToken });
    const otherTarget = await a.creds.callTool(h.gateway.url, cred, 'send_money', pay, undefined, forBalance);
    expect([otherTarget.status, otherTarget.body.reason_code]).toEqual([401, 'PROOF_BINDING_MISMATCH']);
    const forGet = createProof(a.key, { htm: 'GET', htu: `${h.gateway.url}/tools/send_money`, accessToken: cred.accessToken });
    const otherMethod = await a.creds.callTool(h.gateway.url, cred, 'send_money', pay, undefined, forGet);
    expect([otherMethod.status, otherMethod.body.reason_code]).toEqual([401, 'PROOF_BINDING_MISMATCH']);
  });

  it('refuses an expired credential', async () => {
    const a = await h.newCredentialedAgent('expiry');
    const cred = await a.creds.obtain(await h.declare(a.client, ['get_balance']), 1);
    await new Promise((r) => setTimeout(r, Math.max(0, cred.expiresAt.getTime() - Date.now()) + 1100));
    const r = await a.creds.callTool(h.gateway.url, cred, 'get_balance', {});
    expect([r.status, r.body.reason_code]).toEqual([401, 'CREDENTIAL_EXPIRED']);
    expect(await a.creds.introspect(cred.accessToken)).toEqual({ active: false });
  });

  it('refuses at the gateway a credential the reconciler revoked on drift, learned from the revocations topic', async () => {
    const a = await h.newCredentialedAgent('drift');
    const intentId = await h.declare(a.client, ['get_balance']);
    const cred = await a.creds.obtain(intentId);
    expect((await a.creds.callTool(h.gateway.url, cred, 'get_balance', {}, 'act-drift-0')).status).toBe(200);
    await a.client.reportAction({ intentId, tool: 'get_balance', args: {}, actionId: 'act-drift-0' });
    // Out of scope: send_money was not declared. High severity: the credential is revoked.
    await a.client.reportAction({ intentId, tool: 'send_money', args: pay });
    await eventually(async () => (h.revocations.isRevoked(cred.credentialId, '') ? true : undefined), 30_000, 'revocation at the gateway');
    const r = await a.creds.callTool(h.gateway.url, cred, 'get_balance', {});
    expect([r.status, r.body.reason_code]).toEqual([401, 'CREDENTIAL_REVOKED']);
    expect(await a.creds.introspect(cred.accessToken)).toEqual({ active: false });
    await expect(a.creds.obtain(intentId)).rejects.toMatchObject({ reason: 'CREDENTIAL_REVOKED' });
  });

  it('revokes one token at the broker (RFC 7009) and ends every token when the intent closes', async () => {
    const a = await h.newCredentialedAgent('rfc7009');
    const intentId = await h.declare(a.client, ['get_balance']);
    const first = await a.creds.obtain(intentId);
    const second = await a.creds.obtain(intentId);
    await a.creds.revoke(first);
    await eventually(async () => (h.revocations.isRevoked(first.credentialId, JSON.parse(Buffer.from(first.accessToken.split('.')[1]!, 'base64url').toString()).jti) ? true : undefined), 30_000, 'token revocation at the gateway');
    expect((await a.creds.callTool(h.gateway.url, first, 'get_balance', {})).body.reason_code).toBe('CREDENTIAL_REVOKED');
    expect((await a.creds.callTool(h.gateway.url, second, 'get_balance', {})).status).toBe(200);
    // Only the key a token is bound to may revoke it.
    const other = await h.newCredentialedAgent('not-owner');
    await expect(other.creds.revoke(second)).rejects.toBeInstanceOf(CredentialRefused);

    await a.client.closeIntent(intentId);
    await eventually(async () => (h.revocations.isRevoked(second.credentialId, '') ? true : undefined), 30_000, 'closure at the gateway');
    expect((await a.creds.callTool(h.gateway.url, second, 'get_balance', {})).body.reason_code).toBe('CREDENTIAL_REVOKED');
    expect(await a.creds.introspect(second.accessToken)).toEqual({ active: false });
    await expect(a.creds.obtain(intentId)).rejects.toMatchObject({ reason: 'INTENT_CLOSED' });
  });
});
