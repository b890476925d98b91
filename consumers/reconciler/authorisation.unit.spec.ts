import { evaluateAction, type ActionView, type IntentView } from './evaluateAction';
import { checkDelegation, evaluateChain, type ChildDeclaration } from './delegation';
import { authorize } from './authorize';
import { parseCatalogue } from '../../schema/catalogue';

const catalogue = parseCatalogue({
  name: 'test',
  version: 1,
  nameKinds: ['channel'],
  tools: {
    list_inbox: { effect: 'read', dataClass: 'email' },
    read_channel: { effect: 'read', dataClass: 'messages', targetArgs: { channel: 'channel' } },
    get_page: { effect: 'read', dataClass: 'web', targetArgs: { url: 'url' } },
    send_email: { effect: 'external', dataClass: 'email', targetArgs: { recipients: 'email' }, contentArgs: ['body'] },
    send_money: { effect: 'external', dataClass: 'financial', targetArgs: { recipient: 'iban' } },
    delete_file: { effect: 'destructive', dataClass: 'files', targetArgs: { file_id: 'file' } },
  },
});

const T0 = new Date('2026-01-01T10:00:00.000Z');
const T1 = new Date('2026-01-01T11:00:00.000Z');
const AT = new Date('2026-01-01T10:30:00.000Z');

function intent(over: Partial<IntentView> = {}): IntentView {
  return {
    intentId: 'int-root',
    agentId: 'planner',
    allowedTools: ['list_inbox', 'read_channel', 'get_page', 'send_email', 'send_money'],
    allowedTargets: [
      { kind: 'email', value: '*@example.com', match: 'pattern' },
      { kind: 'url', value: 'example.org/docs/*', match: 'pattern' },
      { kind: 'iban', value: 'DE89370400440532013000' },
      { kind: 'channel', value: 'general' },
    ],
    dataClasses: ['email', 'messages', 'web', 'financial'],
    notBefore: T0,
    notAfter: T1,
    status: 'open',
    declaredAt: T0,
    ...over,
  };
}

function action(over: Partial<ActionView> = {}): ActionView {
  return { agentId: 'planner', intentId: 'int-root', tool: 'list_inbox', targets: [], ts: AT, ...over };
}

const codes = (v: { findings: Array<{ reasonCode: string }> }) => v.findings.map((f) => f.reasonCode).sort();

describe('target patterns', () => {
  it('covers every value the pattern admits, after normalising, and nothing else', () => {
    const send = (to: string) => evaluateAction(intent(), action({ tool: 'send_email', args: { recipients: [to] } }), catalogue);
    expect(codes(send('Alice@Example.com'))).toEqual([]);
    expect(codes(send('mallory@example.com.evil.net'))).toEqual(['TARGET_NOT_ALLOWED']);
    expect(codes(send('mallory@evil-example.com'))).toEqual(['TARGET_NOT_ALLOWED']);
    const page = (url: string) => evaluateAction(intent(), action({ tool: 'get_page', args: { url } }), catalogue);
    expect(codes(page('https://www.example.org/docs/a/b'))).toEqual([]);
    expect(codes(page('https://example.org/admin'))).toEqual(['TARGET_NOT_ALLOWED']);
  });

  it('names the declared scope and the offending value in the explanation', () => {
    const v = evaluateAction(intent(), action({ tool: 'send_money', args: { recipient: 'GB29NWBK60161331926819' } }), catalogue);
    expect(v.findings[0]!.detail).toBe(
      'send_money touches undeclared target(s) iban:GB29NWBK60161331926819 (declared: email:*@example.com (pattern), url:example.org/docs/* (pattern), ' +
        'iban:DE89370400440532013000, channel:general)',
    );
  });
});

describe('budgets and declaration time', () => {
  it('allows up to maxActions actions and flags the next one', () => {
    const i = intent({ maxActions: 2 });
    expect(codes(evaluateAction(i, action({ priorActions: 1 }), catalogue))).toEqual([]);
    const over = evaluateAction(i, action({ priorActions: 2 }), catalogue);
    expect(over.findings).toEqual([{ reasonCode: 'BUDGET_EXCEEDED', severity: 'medium', detail: 'list_inbox is action 3 under intent int-root, whose budget is 2' }]);
    expect(codes(evaluateAction(intent({ maxActions: 0 }), action({ tool: 'send_email', priorActions: 0 }), catalogue))).toEqual(['BUDGET_EXCEEDED']);
  });

  it('flags an action signed before its intent was declared', () => {
    const v = evaluateAction(intent({ declaredAt: new Date('2026-01-01T10:45:00.000Z') }), action(), catalogue);
    expect(codes(v)).toEqual(['INTENT_AFTER_ACTION']);
    expect(v.findings[0]!.detail).toBe('list_inbox at 2026-01-01T10:30:00.000Z came before intent int-root was declared (2026-01-01T10:45:00.000Z)');
  });

  it('puts every action under a refused intent out of scope, with the refusal reason', () => {
    expect(evaluateAction(intent({ status: 'denied', deniedFor: 'DELEGATION_ESCALATION' }), action(), catalogue).findings).toEqual([
      { reasonCode: 'DELEGATION_ESCALATION', severity: 'medium', detail: 'list_inbox was done under intent int-root, which was refused when it was declared' },
    ]);
    expect(codes(evaluateAction(intent({ status: 'denied' }), action({ tool: 'send_money' }), catalogue))).toEqual(['POLICY_DENIED']);
  });
});

function child(over: Partial<ChildDeclaration> = {}): ChildDeclaration {
  return {
    intentId: 'int-child',
    allowedTools: ['send_email'],
    allowedTargets: [{ kind: 'email', value: 'bob@example.com' }],
    dataClasses: ['email'],
    notBefore: T0,
    notAfter: new Date('2026-01-01T10:50:00.000Z'),
    ...over,
  };
}

describe('delegation: a child may only narrow its parent', () => {
  it('accepts a narrower child, including a narrower pattern', () => {
    expect(checkDelegation(intent(), child(), catalogue)).toEqual([]);
    expect(checkDelegation(intent(), child({ allowedTargets: [{ kind: 'email', value: 'ops-*@example.com', match: 'pattern' }] }), catalogue)).toEqual([]);
  });

  it('names every escalation in one finding', () => {
    const f = checkDelegation(
      intent({ maxActions: 5 }),
      child({
        allowedTools: ['send_email', 'delete_file'],
        dataClasses: ['email', 'files'],
        allowedTargets: [{ kind: 'email', value: '*', match: 'pattern' }, { kind: 'email', value: 'eve@evil.net' }],
        notAfter: new Date('2026-01-01T12:00:00.000Z'),
      }),
      catalogue,
    );
    expect(f).toEqual([
      {
        reasonCode: 'DELEGATION_ESCALATION',
        severity: 'high',
        detail:
          'intent int-child claims more than it was delegated: tool(s) delete_file not in parent int-root; data class(es) files not in parent int-root; ' +
          'target(s) email:* (pattern), email:eve@evil.net not covered by parent int-root; window [2026-01-01T10:00:00.000Z, 2026-01-01T12:00:00.000Z) ' +
          "outside parent's [2026-01-01T10:00:00.000Z, 2026-01-01T11:00:00.000Z); budget unlimited above parent's 5",
      },
    ]);
  });

  it('refuses delegation from a closed parent', () => {
    expect(checkDelegation(intent({ status: 'closed' }), child(), catalogue)[0]!.detail).toBe('intent int-child claims more than it was delegated: its parent int-root is closed');
  });
});

describe('an action three hops down is judged against the root as well as its own intent', () => {
  // root (planner) -> mid (researcher) -> leaf (mailer): the leaf's own intent is (wrongly) wider than the root.
  const root = intent({ allowedTools: ['send_email', 'list_inbox'], allowedTargets: [{ kind: 'email', value: '*@example.com', match: 'pattern' }] });
  const mid = intent({ intentId: 'int-mid', agentId: 'researcher', allowedTools: ['send_email'], allowedTargets: [{ kind: 'email', value: '*@example.com', match: 'pattern' }] });
  const leaf = intent({ intentId: 'int-leaf', agentId: 'mailer', allowedTools: ['send_email'], allowedTargets: [{ kind: 'email', value: 'eve@evil.net' }] });
  const act = action({ agentId: 'mailer', intentId: 'int-leaf', tool: 'send_email', args: { recipients: ['eve@evil.net'] } });

  it('passes its own intent, fails the root, and says which', () => {
    expect(codes(evaluateAction(leaf, act, catalogue))).toEqual([]);
    const v = evaluateChain([leaf, mid, root], act, catalogue);
    expect(codes(v)).toEqual(['TARGET_NOT_ALLOWED']);
    expect(v.findings[0]!.severity).toBe('critical');
    expect(v.findings[0]!.detail).toBe(
      'under ancestor intent int-mid (1 delegation up): send_email touches undeclared target(s) email:eve@evil.net (declared: email:*@example.com (pattern)); ' +
        'under root intent int-root (2 delegations up): send_email touches undeclared target(s) email:eve@evil.net (declared: email:*@example.com (pattern))',
    );
  });

  it('fails when the root was closed, even though the leaf is open', () => {
    const ok = action({ agentId: 'mailer', intentId: 'int-leaf', tool: 'send_email', args: { recipients: ['bob@example.com'] } });
    const okLeaf = { ...leaf, allowedTargets: [{ kind: 'email', value: 'bob@example.com' }] };
    expect(codes(evaluateChain([okLeaf, mid, root], ok, catalogue))).toEqual([]);
    expect(codes(evaluateChain([okLeaf, mid, { ...root, status: 'closed' }], ok, catalogue))).toEqual(['INTENT_CLOSED']);
  });

  it('does not hold the ancestors to the agent check (they are other agents by design)', () => {
    const ok = action({ agentId: 'mailer', intentId: 'int-leaf', tool: 'send_email', args: { recipients: ['bob@example.com'] } });
    const v = evaluateChain([{ ...leaf, allowedTargets: [{ kind: 'email', value: 'bob@example.com' }] }, mid, root], ok, catalogue);
    expect(v.findings).toEqual([]);
  });
});

describe('authorize: the reconciler\'s evaluator, before the tool runs', () => {
  it('allows an in-scope call and denies an out-of-scope one with reasons and framework mappings', () => {
    const chain = [intent()];
    expect(authorize(chain, { agentId: 'planner', intentId: 'int-root', tool: 'send_email', args: { recipients: ['a@example.com'] }, at: AT }, catalogue)).toEqual({
      decision: 'allow',
      reasons: [],
      targets: [{ kind: 'email', value: 'a@example.com' }],
    });
    const d = authorize(chain, { agentId: 'planner', intentId: 'int-root', tool: 'send_money', args: { recipient: 'GB29NWBK60161331926819' }, at: AT }, catalogue);
    expect(d.decision).toBe('deny');
    expect(d.reasons.map((r) => [r.code, r.severity, r.frameworks.owaspAgentic])).toEqual([['TARGET_NOT_ALLOWED', 'critical', ['ASI01', 'ASI02']]]);
  });

  it('denies with no intent, and once the budget is spent', () => {
    expect(authorize(null, { agentId: 'planner', intentId: 'int-nope', tool: 'list_inbox', at: AT }, catalogue).reasons.map((r) => r.code)).toEqual(['INTENT_UNKNOWN']);
    expect(authorize([intent({ maxActions: 3 })], { agentId: 'planner', intentId: 'int-root', tool: 'list_inbox', at: AT }, catalogue, 3).reasons.map((r) => r.code)).toEqual(['BUDGET_EXCEEDED']);
  });
});
