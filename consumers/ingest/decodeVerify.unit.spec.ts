import { decodeEvent } from './decodeEvent';
import { verifyEnvelope, RegisteredKey } from './verifyEnvelope';
import { AgentClient, createAgentKey } from '../../services/sdk';
import type { Envelope } from '../../schema/events';
import type { Producer } from 'kafkajs';
import { GROUP_ORDER } from '../../schema/crypto/ed25519';

const limits = { maxBytes: 64 * 1024, maxDepth: 32, clockSkewMs: 5 * 60_000 };
const now = new Date();
const key = createAgentKey('agent-1', new Uint8Array(32).fill(1));
const registered: RegisteredKey = { keyId: key.keyId, agentId: 'agent-1', publicKey: key.publicKey, status: 'active' };
const client = new AgentClient({ key, producer: {} as Producer, topic: 'unused', clock: () => now });
const intent = {
  intentId: 'int_1', task: 'pay the bill', purpose: 'pay', allowedTools: ['send_money'], allowedTargets: [{ kind: 'iban', value: 'UK12' }],
  dataClasses: ['financial'], window: { notBefore: now.toISOString(), notAfter: new Date(now.getTime() + 60_000).toISOString() },
};

function decodeOk(bytes: Buffer): Envelope {
  const d = decodeEvent(bytes, limits, now);
  if (!d.ok) throw new Error(`expected ok, got ${d.reason}: ${d.detail}`);
  return d.envelope;
}

describe('decodeEvent + verifyEnvelope', () => {
  const signed = client.sign('intent.declared', intent);

  it('accepts what the SDK signs', () => {
    const env = decodeOk(signed.bytes);
    expect(verifyEnvelope(env, registered, true)).toEqual({ ok: true });
  });

  it('gives a reason code for each kind of bad input', () => {
    const reason = (raw: Buffer | null) => {
      const d = decodeEvent(raw, limits, now);
      return d.ok ? 'ok' : d.reason;
    };
    expect(reason(null)).toBe('MALFORMED_JSON');
    expect(reason(Buffer.from('nope'))).toBe('MALFORMED_JSON');
    expect(reason(Buffer.from('{"a":1,"a":2}'))).toBe('DUPLICATE_KEY');
    expect(reason(Buffer.from('['.repeat(100) + ']'.repeat(100)))).toBe('TOO_DEEP');
    expect(reason(Buffer.alloc(limits.maxBytes + 1, 0x20))).toBe('TOO_LARGE');
    expect(reason(Buffer.from('{"a":"\\ud800"}'))).toBe('LONE_SURROGATE');
    expect(reason(Buffer.from('{"a":12345678901234567890}'))).toBe('NUMBER_NOT_EXACT');
    expect(reason(Buffer.from('{"a":1}'))).toBe('SCHEMA_INVALID');
    const badTs = { ...signed.envelope, ts: '2026-02-30T00:00:00Z' };
    expect(reason(Buffer.from(JSON.stringify(badTs)))).toBe('BAD_TIMESTAMP');
    const localTs = { ...signed.envelope, ts: '2026-01-01T00:00:00+02:00' };
    expect(reason(Buffer.from(JSON.stringify(localTs)))).toBe('BAD_TIMESTAMP');
    const extra = { ...signed.envelope, extra: true };
    expect(reason(Buffer.from(JSON.stringify(extra)))).toBe('SCHEMA_INVALID');
  });

  it('refuses what Postgres cannot store (year 0000, U+0000 in any string) instead of failing the ledger insert', () => {
    const year0 = decodeEvent(Buffer.from(JSON.stringify({ ...signed.envelope, ts: '0000-01-01T00:00:00.000Z' })), limits, now);
    expect(!year0.ok && year0.reason).toBe('BAD_TIMESTAMP');
    const nul = decodeEvent(Buffer.from(JSON.stringify({ ...signed.envelope, payload: { ...intent, task: 'a\u0000b' } })), limits, now);
    expect(nul).toMatchObject({ ok: false, reason: 'SCHEMA_INVALID', agentId: 'agent-1', detail: '/payload/task: strings may not contain U+0000 (the ledger\'s JSON and text columns cannot hold it)' });
    const nulKey = decodeEvent(Buffer.from(JSON.stringify({ ...signed.envelope, payload: { ...intent, allowedTargets: [{ kind: 'iban', value: 'x\u0000' }] } })), limits, now);
    expect(nulKey).toMatchObject({ ok: false, reason: 'SCHEMA_INVALID', detail: expect.stringMatching(/^\/payload\/allowedTargets\/0\/value: /) });
    // Ids that are not well-formed ids are not carried onto the rejected row, and details never carry control characters.
    const badIds = decodeEvent(Buffer.from('{"agentId":"a\\u0000b","eventId":"' + 'e'.repeat(200) + '"}'), limits, now);
    expect(badIds).toMatchObject({ ok: false, reason: 'SCHEMA_INVALID', agentId: null, eventId: null });
    expect(!badIds.ok && /[\u0000-\u001f]/.test(badIds.detail)).toBe(false);
  });

  it('says why a signature with S + L is refused', () => {
    const env = decodeOk(signed.bytes);
    const sig = Buffer.from(env.sig, 'base64url');
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    let t = s + GROUP_ORDER;
    for (let i = 32; i < 64; i++) {
      sig[i] = Number(t & 0xffn);
      t >>= 8n;
    }
    expect(verifyEnvelope({ ...env, sig: sig.toString('base64url') }, registered, true)).toMatchObject({ ok: false, reason: 'SIG_INVALID', detail: expect.stringContaining('non-canonical S') });
  });

  it('flags, but does not reject, a timestamp outside the clock-skew window', () => {
    const late = new AgentClient({ key, producer: {} as Producer, topic: 'unused', clock: () => new Date(now.getTime() + 3_600_000) });
    const d = decodeEvent(late.sign('intent.closed', { intentId: 'int_1', outcome: 'completed' }).bytes, limits, now);
    expect(d.ok && d.clockSkewMs).toBe(3_600_000);
  });

  it('refuses unknown agents and keys, retired keys, keys of other agents', () => {
    const env = decodeOk(signed.bytes);
    expect(verifyEnvelope(env, undefined, false)).toMatchObject({ ok: false, reason: 'UNKNOWN_AGENT' });
    expect(verifyEnvelope(env, undefined, true)).toMatchObject({ ok: false, reason: 'UNKNOWN_KEY' });
    expect(verifyEnvelope(env, { ...registered, status: 'retired' }, true)).toMatchObject({ ok: false, reason: 'KEY_RETIRED' });
    expect(verifyEnvelope(env, { ...registered, agentId: 'agent-2' }, true)).toMatchObject({ ok: false, reason: 'KEY_AGENT_MISMATCH' });
  });

  it('refuses signatures that are mis-encoded, of the wrong length, or over other content', () => {
    const env = decodeOk(signed.bytes);
    expect(verifyEnvelope({ ...env, sig: env.sig + '=' }, registered, true)).toMatchObject({ ok: false, reason: 'SIG_BAD_ENCODING' });
    expect(verifyEnvelope({ ...env, sig: env.sig.slice(0, 40) }, registered, true)).toMatchObject({ ok: false, reason: 'SIG_BAD_ENCODING' });
    const b64 = env.sig.replace(/-/g, '+').replace(/_/g, '/');
    if (b64 !== env.sig) expect(verifyEnvelope({ ...env, sig: b64 }, registered, true)).toMatchObject({ ok: false, reason: 'SIG_BAD_ENCODING' });
    expect(verifyEnvelope({ ...env, seq: 2 }, registered, true)).toMatchObject({ ok: false, reason: 'SIG_INVALID' });
    const other = createAgentKey('agent-1', new Uint8Array(32).fill(2));
    expect(verifyEnvelope(env, { ...registered, publicKey: other.publicKey }, true)).toMatchObject({ ok: false, reason: 'SIG_INVALID' });
  });

  it('chains the SDK events: seq counts up and prevHash is the previous event hash', () => {
    const c = new AgentClient({ key, producer: {} as Producer, topic: 'unused' });
    const a = c.sign('intent.declared', intent);
    const b = c.sign('intent.closed', { intentId: 'int_1', outcome: 'completed' });
    expect(a.envelope.seq).toBe(1);
    expect(a.envelope.prevHash).toBeNull();
    expect(b.envelope.seq).toBe(2);
    expect(b.envelope.prevHash).toBe(a.hash);
  });
});
