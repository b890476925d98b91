import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkDeclaration, globMatch, isGatewayOnly, loadPolicy, parsePolicy, PolicyError, type DeclarationView } from './policy';
import { loadCatalogue, parseCatalogue } from './catalogue';
import { DEFAULT_CATALOGUE, DEFAULT_POLICY } from '../services/common/config';

const catalogue = parseCatalogue({
  name: 'test',
  version: 1,
  tools: {
    list_inbox: { effect: 'read', dataClass: 'email' },
    send_email: { effect: 'external', dataClass: 'email', targetArgs: { recipients: 'email' } },
    send_money: { effect: 'external', dataClass: 'financial', targetArgs: { recipient: 'iban' } },
  },
});

const policy = parsePolicy(
  {
    name: 'fleet',
    version: 3,
    revokeAt: 'high',
    rules: [
      { agents: ['bank-*'], tools: ['*'], dataClasses: ['*'], requireApproval: { tools: ['send_money'] }, maxWindowSeconds: 900, maxDelegationDepth: 1 },
      { agents: ['mail-?'], tools: ['list_inbox', 'send_email'], dataClasses: ['email'], maxWindowSeconds: 3600 },
    ],
  },
  'test policy',
  catalogue,
);

const T0 = new Date('2026-01-01T10:00:00.000Z');
function decl(over: Partial<DeclarationView> = {}): DeclarationView {
  return { agentId: 'mail-1', intentId: 'int-1', allowedTools: ['send_email'], dataClasses: ['email'], notBefore: T0, notAfter: new Date(T0.getTime() + 600_000), delegationDepth: 0, ...over };
}
const reasons = (d: DeclarationView) => checkDeclaration(policy, d).map((f) => `${f.reasonCode}: ${f.detail}`);

describe('policy: who may declare what', () => {
  it('fills defaults and accepts a declaration within the matching rule', () => {
    expect(policy.graceMs).toBe(30000);
    expect([policy.maxCredentialSeconds, policy.gatewayOnlyTools]).toEqual([900, []]);
    expect(policy.rules[1]!.maxDelegationDepth).toBe(3);
    expect(reasons(decl())).toEqual([]);
  });

  it('denies what no rule allows, naming the tool, the data class and the agent', () => {
    expect(reasons(decl({ allowedTools: ['send_email', 'send_money'], dataClasses: ['email', 'financial'] }))).toEqual([
      'POLICY_DENIED: intent int-1 declares tool(s) send_money, which policy fleet does not let agent mail-1 use',
      'POLICY_DENIED: intent int-1 declares data class(es) financial, which policy fleet does not let agent mail-1 touch',
    ]);
    expect(reasons(decl({ agentId: 'mail-12' }))).toEqual(['POLICY_DENIED: policy fleet v3 has no rule for agent mail-12']);
  });

  it('asks for an approval reference where the rule says so', () => {
    const money = decl({ agentId: 'bank-7', allowedTools: ['send_money'], dataClasses: ['financial'] });
    expect(reasons(money)).toEqual(['APPROVAL_REQUIRED: intent int-1 declares tool send_money without an approval reference']);
    expect(reasons({ ...money, approvalRef: 'CHG-1234' })).toEqual([]);
  });

  it('caps the window and the delegation depth', () => {
    expect(reasons(decl({ agentId: 'bank-7', notAfter: new Date(T0.getTime() + 3_600_000), delegationDepth: 2 }))).toEqual([
      'WINDOW_TOO_LONG: intent int-1 asks for a 3600 s window; policy fleet allows at most 900 s',
      'DELEGATION_ESCALATION: intent int-1 is 2 delegations from its root; policy fleet allows 1',
    ]);
  });

  it('is refused at load with every problem named', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(PolicyError);
        return `${(e as PolicyError).code}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(err(() => parsePolicy({ name: 'p', version: 1, revokeAt: 'severe', rules: [] }))).toBe(
      'POLICY_INVALID: policy is not a valid policy: revokeAt: Invalid option: expected one of "low"|"medium"|"high"|"critical"; rules: Too small: expected array to have >=1 items',
    );
    expect(err(() => parsePolicy({ name: 'p', version: 1, revokeAt: 'high', rules: [{ agents: ['*'], tools: ['send_mail'], dataClasses: ['email'], maxWindowSeconds: 60 }] }, 'p.json', catalogue))).toBe(
      'POLICY_INVALID: p.json is not a valid policy: rules.0.tools: "send_mail" matches nothing in catalogue test',
    );
    expect(err(() => parsePolicy({ name: 'p', version: 1, revokeAt: 'high', rules: [{ agents: ['*'], tools: ['*'], dataClasses: ['*'], maxWindowSeconds: 60, extra: 1 }] }))).toMatch(
      /^POLICY_INVALID: policy is not a valid policy: rules\.0: Unrecognized key: "extra"/,
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'il-policy-'));
    writeFileSync(path.join(dir, 'dup.json'), '{"name":"a","name":"b"}');
    expect(err(() => loadPolicy(path.join(dir, 'dup.json')))).toMatch(/^POLICY_INVALID: policy .*dup\.json is not valid JSON: .*duplicate/i);
    expect(err(() => loadPolicy(path.join(dir, 'missing.json')))).toMatch(/^POLICY_INVALID: cannot read policy .*missing\.json/);
  });

  it('ships a default policy that loads against the shipped catalogue', () => {
    const p = loadPolicy(DEFAULT_POLICY, loadCatalogue(DEFAULT_CATALOGUE));
    expect([p.name, p.revokeAt, p.rules.length]).toEqual(['default', 'high', 1]);
  });
});

describe('policy: credentials and gateways', () => {
  it('names the tools reachable only through a gateway, each checked against the catalogue', () => {
    const base = { name: 'p', version: 1, revokeAt: 'high', rules: [{ agents: ['*'], tools: ['*'], dataClasses: ['*'], maxWindowSeconds: 60 }] };
    const p = parsePolicy({ ...base, gatewayOnlyTools: ['send_money', 'update_*'], maxCredentialSeconds: 120 }, 'p.json', loadCatalogue(DEFAULT_CATALOGUE));
    expect([isGatewayOnly(p, 'send_money'), isGatewayOnly(p, 'update_password'), isGatewayOnly(p, 'get_balance'), p.maxCredentialSeconds]).toEqual([true, true, false, 120]);
    expect(() => parsePolicy({ ...base, gatewayOnlyTools: ["send_monee"] }, "p.json", loadCatalogue(DEFAULT_CATALOGUE))).toThrow(/gatewayOnlyTools: "send_monee" matches nothing/);
  });
});

describe('globMatch', () => {
  it('matches the whole value, * any run and ? one character', () => {
    expect(globMatch('*', '')).toBe(true);
    expect(globMatch('a*c', 'abbbc')).toBe(true);
    expect(globMatch('a*c', 'abbbcd')).toBe(false);
    expect(globMatch('a?c', 'abc')).toBe(true);
    expect(globMatch('a?c', 'ac')).toBe(false);
    expect(globMatch('*@example.com', 'x@example.com')).toBe(true);
    expect(globMatch('*@example.com', 'x@example.com.evil')).toBe(false);
  });

  it('answers a pattern that would make a backtracking regex explode', () => {
    expect(globMatch('*a*a*a*a*a*a*c', 'a'.repeat(2048) + 'b')).toBe(false);
    expect(globMatch('*a*a*a*a*a*a*b', 'a'.repeat(2048) + 'b')).toBe(true);
  });
});
