import { createAgentKey } from '../sdk/agentKey';
import { checkToolCall, createProof, issueAccessToken, checkProof, thumbprint, ReplayCache, type CallContext, type PresentedCall } from './index';
import { signJws } from './jws';

const broker = { ...createAgentKey('broker', new Uint8Array(32).fill(1)) };
const agent = createAgentKey('agent-1', new Uint8Array(32).fill(2));
const thief = createAgentKey('thief', new Uint8Array(32).fill(3));
const now = new Date('2026-03-01T10:00:00.000Z');
const sec = Math.floor(now.getTime() / 1000);
const uri = 'http://gw.example/tools/send_money';

function token(over: Partial<{ exp: number; jkt: string }> = {}): string {
  return issueAccessToken({ sub: agent.agentId, jti: 'tok_1', cid: 'cred_1', intent_id: 'int_1', cnf: { jkt: over.jkt ?? thumbprint(agent.publicKey) }, iat: sec, exp: over.exp ?? sec + 300 }, broker);
}

function ctx(over: Partial<CallContext> = {}): CallContext {
  return { brokerPublicKey: broker.publicKey, now, maxProofAgeMs: 60_000, futureSkewMs: 5_000, isRevoked: () => false, isReplay: () => false, ...over };
}

function call(tok: string, proof: string | undefined, over: Partial<PresentedCall> = {}): PresentedCall {
  return { method: 'POST', uri, authorization: `DPoP ${tok}`, dpop: proof, ...over };
}

describe('checkToolCall', () => {
  it('allows a credential from the broker with a fresh proof by its key for this method and target', () => {
    const t = token();
    const d = checkToolCall(call(t, createProof(agent, { htm: 'POST', htu: uri, accessToken: t }, now)), ctx());
    expect(d).toMatchObject({ allow: true, claims: { sub: 'agent-1', cid: 'cred_1' } });
  });

  it('refuses a stolen credential: no proof, or a proof by another key', () => {
    const t = token();
    expect(checkToolCall(call(t, undefined), ctx())).toMatchObject({ allow: false, reason: 'PROOF_INVALID' });
    expect(checkToolCall(call(t, createProof(thief, { htm: 'POST', htu: uri, accessToken: t }, now)), ctx())).toMatchObject({ allow: false, reason: 'PROOF_KEY_MISMATCH' });
  });

  it('refuses a replayed proof', () => {
    const t = token();
    const p = createProof(agent, { htm: 'POST', htu: uri, accessToken: t }, now);
    const cache = new ReplayCache(61_000);
    const c = ctx({ isReplay: (jkt, jti) => cache.has(jkt, jti) });
    const first = checkToolCall(call(t, p), c);
    expect(first.allow).toBe(true);
    if (first.allow) expect(cache.remember(first.claims.cnf.jkt, first.jti, first.iatMs, now.getTime())).toBe(true);
    expect(checkToolCall(call(t, p), c)).toMatchObject({ allow: false, reason: 'PROOF_REPLAYED' });
  });

  it('refuses a proof made for another target, another method, or another credential', () => {
    const t = token();
    expect(checkToolCall(call(t, createProof(agent, { htm: 'POST', htu: 'http://gw.example/tools/get_balance', accessToken: t }, now)), ctx())).toMatchObject({ allow: false, reason: 'PROOF_BINDING_MISMATCH' });
    expect(checkToolCall(call(t, createProof(agent, { htm: 'GET', htu: uri, accessToken: t }, now)), ctx())).toMatchObject({ allow: false, reason: 'PROOF_BINDING_MISMATCH' });
    expect(checkToolCall(call(t, createProof(agent, { htm: 'POST', htu: uri, accessToken: token({ exp: sec + 10 }) }, now)), ctx())).toMatchObject({ allow: false, reason: 'PROOF_BINDING_MISMATCH' });
    // Query and fragment are not part of the target (RFC 9449 §4.3).
    expect(checkToolCall(call(t, createProof(agent, { htm: 'POST', htu: `${uri}?x=1`, accessToken: t }, now)), ctx()).allow).toBe(true);
  });

  it('refuses an expired credential, and a stale or future proof', () => {
    const t = token({ exp: sec });
    expect(checkToolCall(call(t, createProof(agent, { htm: 'POST', htu: uri, accessToken: t }, now)), ctx())).toMatchObject({ allow: false, reason: 'CREDENTIAL_EXPIRED' });
    const t2 = token();
    expect(checkToolCall(call(t2, createProof(agent, { htm: 'POST', htu: uri, accessToken: t2, iat: sec - 120 }, now)), ctx())).toMatchObject({ allow: false, reason: 'PROOF_STALE' });
    expect(checkToolCall(call(t2, createProof(agent, { htm: 'POST', htu: uri, accessToken: t2, iat: sec + 60 }, now)), ctx())).toMatchObject({ allow: false, reason: 'PROOF_STALE' });
  });

  it('refuses a revoked credential', () => {
    const t = token();
    const d = checkToolCall(call(t, createProof(agent, { htm: 'POST', htu: uri, accessToken: t }, now)), ctx({ isRevoked: (cid) => cid === 'cred_1' }));
    expect(d).toMatchObject({ allow: false, reason: 'CREDENTIAL_REVOKED' });
  });

  it('refuses credentials the broker did not sign, bearer tokens, and garbage', () => {
    const forged = issueAccessToken({ sub: agent.agentId, jti: 'tok_1', cid: 'cred_1', intent_id: 'int_1', cnf: { jkt: thumbprint(agent.publicKey) }, iat: sec, exp: sec + 300 }, { ...thief });
    const p = (t: string) => createProof(agent, { htm: 'POST', htu: uri, accessToken: t }, now);
    expect(checkToolCall(call(forged, p(forged)), ctx())).toMatchObject({ allow: false, reason: 'CREDENTIAL_INVALID' });
    const t = token();
    expect(checkToolCall(call(t, p(t), { authorization: `Bearer ${t}` }), ctx())).toMatchObject({ allow: false, reason: 'CREDENTIAL_INVALID' });
    expect(checkToolCall(call('a.b.c', p('a.b.c')), ctx())).toMatchObject({ allow: false, reason: 'CREDENTIAL_INVALID' });
    expect(checkToolCall(call(t, 'x.y.z'), ctx())).toMatchObject({ allow: false, reason: 'PROOF_INVALID' });
  });
});

describe('checkProof', () => {
  const x = { htm: 'POST', htu: 'http://broker/token', now, maxAgeMs: 60_000, futureSkewMs: 5_000 };
  it('refuses a proof whose header carries a private key, a proof of another typ, and a proof whose signature is not its key', () => {
    const withD = signJws({ typ: 'dpop+jwt', jwk: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(agent.publicKey).toString('base64url'), d: 'AAAA' } }, { jti: 'j'.repeat(16), htm: 'POST', htu: x.htu, iat: sec }, agent);
    expect(checkProof(withD, x)).toMatchObject({ ok: false, reason: 'PROOF_INVALID' });
    const wrongTyp = signJws({ typ: 'JWT', jwk: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(agent.publicKey).toString('base64url') } }, { jti: 'j'.repeat(16), htm: 'POST', htu: x.htu, iat: sec }, agent);
    expect(checkProof(wrongTyp, x)).toMatchObject({ ok: false, reason: 'PROOF_INVALID' });
    const otherSigner = signJws({ typ: 'dpop+jwt', jwk: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(agent.publicKey).toString('base64url') } }, { jti: 'j'.repeat(16), htm: 'POST', htu: x.htu, iat: sec }, thief);
    expect(checkProof(otherSigner, x)).toMatchObject({ ok: false, reason: 'PROOF_INVALID' });
    expect(checkProof(createProof(agent, { htm: 'POST', htu: x.htu }, now), x)).toMatchObject({ ok: true, jkt: thumbprint(agent.publicKey) });
  });

  it('names the RFC 7638 thumbprint of the key (RFC 8037 appendix A.3 example)', () => {
    const x = Buffer.from('11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', 'base64url');
    expect(thumbprint(new Uint8Array(x))).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });
});
