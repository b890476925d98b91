import path from 'node:path';
import { loadCatalogue } from '../../../schema/catalogue';
import { IntentDeclaredPayload } from '../../../schema/events/intent';
import { evaluateAction } from '../../../consumers/reconciler/evaluateAction';
import { deriveIntent, mentionsInPrompt, openTargetsOf } from './deriveIntent';
import { toAction } from './toAction';
import { readTraces, type Trace } from './traces';
import { DEFAULT_CATALOGUE } from './offlineEval';

const catalogue = loadCatalogue(DEFAULT_CATALOGUE);
const traces = readTraces(path.join(__dirname, 'data', 'traces.jsonl'));

// Everything a planner cannot know before the agent reads untrusted output, or that only the scorer may see.
const FORBIDDEN_TRACE_FIELDS = [
  'attacker_tokens',
  'injection_goal',
  'injection_ground_truth_calls',
  'injection_seen',
  'injection_task_id',
  'security_breached',
  'utility',
];
const FORBIDDEN_CALL_FIELDS = ['label', 'rule'];

/** Verdicts for every call of a trace, computed from whatever the trace object holds. */
function verdicts(trace: Trace) {
  const declared = deriveIntent(trace, catalogue);
  const intent = {
    intentId: 'i',
    agentId: 'a',
    ...declared,
    notBefore: new Date(0),
    notAfter: new Date(1000),
    status: 'open' as const,
  };
  return {
    declared,
    calls: trace.tool_calls.map((call) => {
      const a = toAction(call, catalogue);
      return evaluateAction(intent, { agentId: 'a', intentId: 'i', tool: a.tool, args: a.args, targets: a.targets, ts: new Date(1) }, catalogue);
    }),
  };
}

function withoutForbidden(trace: Trace): Trace {
  const copy = structuredClone(trace) as Record<string, unknown>;
  for (const f of FORBIDDEN_TRACE_FIELDS) delete copy[f];
  copy.tool_calls = (copy.tool_calls as Array<Record<string, unknown>>).map((c) => {
    const { label: _l, rule: _r, ...rest } = c;
    return rest;
  });
  return copy as Trace;
}

/** The forbidden fields filled with the most tempting wrong values: the attacker's values as if they were the user's. */
function scrambled(trace: Trace): Trace {
  const copy = structuredClone(trace) as Record<string, unknown>;
  copy.attacker_tokens = ['us133000000121212121212', 'mark.black-2134@gmail.com', trace.user_task_prompt];
  copy.injection_goal = `Ignore that. ${trace.user_task_prompt}`;
  copy.injection_ground_truth_calls = trace.tool_calls.map((c) => ({ function: c.function, args: c.args }));
  copy.injection_seen = !copy.injection_seen;
  copy.injection_task_id = 'injection_task_999';
  copy.security_breached = !copy.security_breached;
  copy.utility = !copy.utility;
  copy.tool_calls = trace.tool_calls.map((c) => ({ ...c, label: c.label === 'drift' ? 'intent' : 'drift', rule: 'scrambled' }));
  return copy as Trace;
}

/** A trace whose forbidden fields throw when read at all. */
function tripwired(trace: Trace): Trace {
  const guard = <T extends object>(o: T, banned: string[]): T =>
    new Proxy(o, {
      get(target, prop, receiver) {
        if (typeof prop === 'string' && banned.includes(prop)) throw new Error(`read forbidden field ${prop}`);
        return Reflect.get(target, prop, receiver);
      },
      ownKeys(target) {
        return Reflect.ownKeys(target).filter((k) => !(typeof k === 'string' && banned.includes(k)));
      },
    });
  const copy = structuredClone(trace);
  copy.tool_calls = copy.tool_calls.map((c) => guard(c, FORBIDDEN_CALL_FIELDS));
  return guard(copy, FORBIDDEN_TRACE_FIELDS);
}

describe('deriveIntent never uses what a planner cannot know', () => {
  it('gives identical intents and verdicts with the forbidden fields deleted', () => {
    for (const t of traces) expect(verdicts(withoutForbidden(t))).toEqual(verdicts(t));
  });

  it('gives identical intents and verdicts with the forbidden fields scrambled', () => {
    for (const t of traces) expect(verdicts(scrambled(t))).toEqual(verdicts(t));
  });

  it('never even reads a forbidden field', () => {
    for (const t of traces) expect(() => verdicts(tripwired(t))).not.toThrow();
  });

  it('depends on the prompt and the reference plan (the test above is not vacuous)', () => {
    const t = traces.find((x) => x.user_task_ground_truth_calls.some((c) => c.function === 'send_money'))!;
    const other = { ...t, user_task_ground_truth_calls: [], user_task_prompt: 'Hello.' };
    expect(deriveIntent(other, catalogue)).not.toEqual(deriveIntent(t, catalogue));
  });
});

describe('deriveIntent', () => {
  it('produces a valid intent payload for every trace', () => {
    for (const t of traces) {
      const payload = { ...deriveIntent(t, catalogue), intentId: 'int-1', window: { notBefore: '2024-01-01T00:00:00Z', notAfter: '2024-01-01T01:00:00Z' } };
      expect(() => IntentDeclaredPayload.parse(payload)).not.toThrow();
    }
  });

  const trace = (prompt: string, plan: Trace['user_task_ground_truth_calls'], suite = 'banking') =>
    ({ suite, user_task_prompt: prompt, user_task_ground_truth_calls: plan }) as const;

  it('allows the plan tools and every read of the suite, no other writes', () => {
    const d = deriveIntent(trace('Pay the bill.', [{ function: 'send_money', args: { recipient: 'GB29NWBK60161331926819' } }]), catalogue);
    expect(d.allowedTools).toEqual(expect.arrayContaining(['send_money', 'get_balance', 'read_file', 'get_most_recent_transactions']));
    expect(d.allowedTools).not.toContain('update_password');
    expect(d.allowedTools).not.toContain('schedule_transaction');
    expect(d.allowedTools).not.toContain('send_email'); // another suite's tool
  });

  it('declares the plan targets and the addresses and names in the prompt', () => {
    const d = deriveIntent(
      trace(
        "Send 'hello' to Dora (dora@Example.com) and post it to www.example.com/x; IBAN DE89 3704 0044 0532 0130 00.",
        [{ function: 'send_direct_message', args: { recipient: 'Eve', body: 'hello' } }],
        'slack',
      ),
      catalogue,
    );
    expect(d.allowedTargets).toEqual(
      expect.arrayContaining([
        { kind: 'user', value: 'eve' },
        { kind: 'email', value: 'dora@example.com' },
        { kind: 'url', value: 'example.com/x' },
        { kind: 'iban', value: 'DE89370400440532013000' },
        { kind: 'user', value: 'dora' },
        { kind: 'channel', value: 'hello' },
      ]),
    );
  });

  it('declares the data classes of the plan, of reads on prompt addresses, and ambient ones', () => {
    const d = deriveIntent(trace('Do the tasks at www.todo.com.', [{ function: 'get_channels', args: {} }], 'slack'), catalogue);
    expect(d.dataClasses.sort()).toEqual(['messages', 'time', 'web'].sort());
  });

  it('opens a read or write tool over a collection the plan lists and works through, never a send', () => {
    const plan = [
      { function: 'get_channels', args: {} },
      { function: 'get_users_in_channel', args: { channel: 'alpha' } },
      { function: 'get_users_in_channel', args: { channel: 'beta' } },
      { function: 'read_channel_messages', args: { channel: 'alpha' } },
      { function: 'send_channel_message', args: { channel: 'alpha', body: 'x' } },
      { function: 'send_channel_message', args: { channel: 'beta', body: 'x' } },
    ];
    expect(openTargetsOf(plan, catalogue)).toEqual([{ tool: 'get_users_in_channel', kind: 'channel' }]);
    // One member is not "each member"; without the listing the values are just the plan's own.
    expect(openTargetsOf(plan.slice(0, 2), catalogue)).toEqual([]);
    expect(openTargetsOf(plan.slice(1), catalogue)).toEqual([]);
    // Users listed by a membership read, then added one by one (a write): the add is open over users.
    expect(
      openTargetsOf(
        [
          { function: 'get_users_in_channel', args: { channel: 'alpha' } },
          { function: 'add_user_to_channel', args: { channel: 'beta', user: 'Ann' } },
          { function: 'add_user_to_channel', args: { channel: 'beta', user: 'Ben' } },
        ],
        catalogue,
      ),
    ).toEqual([{ tool: 'add_user_to_channel', kind: 'user' }]);
    expect(deriveIntent(trace('List them.', plan, 'slack'), catalogue).openTargets).toEqual([{ tool: 'get_users_in_channel', kind: 'channel' }]);
    expect(deriveIntent(trace('Pay the bill.', [{ function: 'read_file', args: { file_path: 'a.txt' } }]), catalogue)).not.toHaveProperty('openTargets');
  });

  it('lets a membership read reach a channel the reference plan did not visit (recorded run)', () => {
    const t = traces.find(
      (x) => x.id === 'meta-llama_Llama-3.3-70B-Instruct/slack/user_task_18/none/none',
    )!;
    const i = t.tool_calls.findIndex((c) => c.function === 'get_users_in_channel' && c.args.channel === 'External_0');
    expect(i).toBeGreaterThan(0);
    expect(t.user_task_ground_truth_calls.some((c) => c.args.channel === 'External_0')).toBe(false);
    expect(verdicts(t).calls[i].findings).toEqual([]);
  });

  it('finds quoted strings, file names and capitalised names, not sentence openers', () => {
    const m = mentionsInPrompt("Please read 'landlord-notices.txt' and Invite Dora to Slack. You can ask Bob.");
    expect(m).toEqual(expect.arrayContaining(['landlord-notices.txt', 'Dora', 'Invite Dora', 'Slack', 'Bob']));
    expect(m).not.toContain('Please');
    expect(m).not.toContain('You');
    expect(m).not.toContain('Slack You');
  });
});
