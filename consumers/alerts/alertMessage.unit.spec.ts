import { decodeAlert } from './alertMessage';
import { sampleAlert } from './testFixtures';

describe('decodeAlert', () => {
  it('reads an alert exactly as the reconciler writes it', () => {
    const a = sampleAlert();
    expect(decodeAlert(Buffer.from(JSON.stringify(a)))).toEqual({ ok: true, alert: a });
    const declared = sampleAlert({ intentId: null, tool: '', credentialsRevoked: [] });
    expect(decodeAlert(Buffer.from(JSON.stringify(declared)))).toEqual({ ok: true, alert: declared });
  });

  it('refuses what is not one, saying why', () => {
    const bad = (v: string | null) => {
      const r = decodeAlert(v === null ? null : Buffer.from(v));
      return r.ok ? 'ok' : r.problem;
    };
    expect(bad(null)).toBe('record has no value');
    expect(bad('{"a":1,"a":2}')).toMatch(/^not a JSON alert: DUPLICATE_KEY/);
    expect(bad('nope')).toMatch(/^not a JSON alert: MALFORMED_JSON/);
    expect(bad(JSON.stringify({ ...sampleAlert(), severity: 'severe' }))).toMatch(/^not a drift alert: severity:/);
    expect(bad(JSON.stringify({ ...sampleAlert(), reasonCode: 'MADE_UP' }))).toMatch(/reasonCode/);
    expect(bad(JSON.stringify({ ...sampleAlert(), findingId: 'abc' }))).toMatch(/findingId: a finding id is the decimal id/);
    expect(bad(JSON.stringify({ ...sampleAlert(), extra: 1 }))).toMatch(/extra/);
    expect(bad(JSON.stringify({ type: 'credential.revoked' }))).toMatch(/^not a drift alert/);
  });
});
