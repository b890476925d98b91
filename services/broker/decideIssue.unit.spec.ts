import { decideIssue, type IssueView } from './decideIssue';

const now = new Date('2026-03-01T10:00:00.500Z');
const view = (over: Partial<{ intent: Partial<NonNullable<IssueView['intent']>> | null; credential: Partial<NonNullable<IssueView['credential']>> | null; key: Partial<NonNullable<IssueView['key']>> | null }> = {}): IssueView => ({
  intent: over.intent === null ? null : { intentId: 'int_1', agentId: 'a1', status: 'open', notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 3_600_000), ...over.intent },
  credential: over.credential === null ? null : { credentialId: 'cred_1', status: 'active', expiresAt: new Date(now.getTime() + 3_600_000), ...over.credential },
  key: over.key === null ? null : { keyId: 'k1', agentId: 'a1', status: 'active', ...over.key },
});
const reason = (v: IssueView, requested?: number) => {
  const d = decideIssue(v, 'int_1', requested, 900, now);
  return d.ok ? 'ok' : d.reason;
};

describe('decideIssue', () => {
  it('issues to the declaring agent for the shortest of the request, the window and the policy maximum, in whole seconds', () => {
    const d = decideIssue(view(), 'int_1', undefined, 900, now);
    expect(d).toEqual({ ok: true, credentialId: 'cred_1', agentId: 'a1', keyId: 'k1', expiresAt: new Date('2026-03-01T10:15:00.000Z') });
    expect(decideIssue(view(), 'int_1', 30, 900, now)).toMatchObject({ expiresAt: new Date('2026-03-01T10:00:30.000Z') });
    expect(decideIssue(view({ intent: { notAfter: new Date('2026-03-01T10:05:00.000Z') } }), 'int_1', 3600, 900, now)).toMatchObject({ expiresAt: new Date('2026-03-01T10:05:00.000Z') });
  });

  it('refuses every other case with its reason', () => {
    expect(reason(view({ key: null }))).toBe('UNKNOWN_KEY');
    expect(reason(view({ key: { status: 'retired' } }))).toBe('KEY_RETIRED');
    expect(reason(view({ intent: null }))).toBe('INTENT_UNKNOWN');
    expect(reason(view({ key: { agentId: 'a2' } }))).toBe('INTENT_AGENT_MISMATCH');
    expect(reason(view({ intent: { status: 'denied' } }))).toBe('POLICY_DENIED');
    expect(reason(view({ intent: { status: 'closed' } }))).toBe('INTENT_CLOSED');
    expect(reason(view({ credential: null }))).toBe('INTENT_UNKNOWN');
    expect(reason(view({ credential: { status: 'revoked' } }))).toBe('CREDENTIAL_REVOKED');
    expect(reason(view({ credential: { status: 'expired' } }))).toBe('INTENT_CLOSED');
    expect(reason(view({ intent: { notBefore: new Date(now.getTime() + 1000) } }))).toBe('OUTSIDE_WINDOW');
    expect(reason(view({ intent: { notAfter: now } }))).toBe('OUTSIDE_WINDOW');
    expect(reason(view({ intent: { notAfter: new Date(now.getTime() + 300) } }))).toBe('OUTSIDE_WINDOW');
  });
});
