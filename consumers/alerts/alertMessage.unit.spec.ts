import { decodeAlert } from './alertMessage';
import { sampleAlert } from './testFixtures';
import { alertKey } from './intakeStore';

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

describe('integrity alerts', () => {
  const integrity = {
    type: 'integrity.finding', findingId: '42', agentId: 'agent-7', eventId: 'evt_9', reasonCode: 'FORK', severity: 'critical', detail: 'two events at seq 3',
    frameworks: { owaspAgentic: ['ASI10'], maestro: ['L5'], nistAiRmf: ['MEASURE 2.7'] }, credentialsRevoked: ['cred_1'],
  };

  it('are read as alerts with no intent or tool, under a key that cannot collide with a drift finding of the same number', () => {
    const d = decodeAlert(Buffer.from(JSON.stringify(integrity)));
    expect(d).toEqual({ ok: true, alert: { type: 'integrity.finding', findingId: '42', agentId: 'agent-7', intentId: null, actionEventId: 'evt_9', tool: '', reasonCode: 'FORK', severity: 'critical', detail: 'two events at seq 3', frameworks: integrity.frameworks, credentialsRevoked: ['cred_1'] } });
    expect(alertKey((d as { alert: { type: string; findingId: string } }).alert)).toBe('integrity:42');
    expect(alertKey({ type: 'drift.finding', findingId: '42' })).toBe('42');
  });

  it('are refused, with the reason, when malformed', () => {
    const d = decodeAlert(Buffer.from(JSON.stringify({ ...integrity, intentId: 'x' })));
    expect(d.ok).toBe(false);
    expect((d as { problem: string }).problem).toMatch(/^not an integrity alert: .*intentId/);
  });
});
