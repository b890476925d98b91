import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHarness, eventually, Harness } from './pipelineHarness';
import { openServiceSigner, startAuthzService, type AuthzService } from '../services/authz';
import { createLogger } from '../services/common/logger';
import type { AgentClient } from '../services/sdk';

/**
 * Intent-based authorisation on the real Kafka and Postgres: policy at declaration, delegation that may only
 * narrow, actions judged against every intent up to the root, budgets, actions that arrive before their intent,
 * and request-time decisions (SDK and HTTP) recorded as ledger events.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'il-authz-'));
const policyFile = path.join(dir, 'policy.json');
writeFileSync(
  policyFile,
  JSON.stringify({
    name: 'int-test',
    version: 1,
    revokeAt: 'high',
    graceMs: 1500,
    rules: [
      { agents: ['*-banker-*'], tools: ['*'], dataClasses: ['*'], requireApproval: { tools: ['send_money'] }, maxWindowSeconds: 3600, maxDelegationDepth: 2 },
      { agents: ['*'], tools: ['*'], dataClasses: ['*'], maxWindowSeconds: 3600, maxDelegationDepth: 2 },
    ],
  }),
);

describe('intent-based authorisation (real Kafka + Postgres)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ IL_POLICY: policyFile });
    await h.startIngest();
    await h.startReconciler();
  });
  afterAll(async () => {
    await h.stop();
  });

  const intentRow = (intentId: string) =>
    eventually(async () => (await h.pool.query('SELECT status, denied_for, parent_intent_id, root_intent_id, max_actions FROM intents WHERE intent_id = $1', [intentId])).rows[0], 30_000, `intent ${intentId}`);
  const findingsOf = (eventId: string, n = 1) =>
    eventually(async () => {
      const r = await h.pool.query<{ reason_code: string; severity: string; detail: string; tool: string }>(
        'SELECT reason_code, severity, detail, tool FROM drift_findings WHERE action_event_id = $1 ORDER BY reason_code',
        [eventId],
      );
      return r.rows.length >= n ? r.rows : undefined;
    }, 30_000, `findings of ${eventId}`);
  const actionRow = (eventId: string) =>
    eventually(async () => (await h.pool.query('SELECT in_scope FROM actions WHERE event_id = $1', [eventId])).rows[0], 30_000, `action ${eventId}`);
  const credentialOf = async (intentId: string) => (await h.pool.query('SELECT status FROM credentials WHERE intent_id = $1', [intentId])).rows[0]?.status ?? null;
  const base = { task: 'pay the rent', purpose: 'pay', allowedTargets: [{ kind: 'iban', value: 'DE89370400440532013000' }], dataClasses: ['financial'] };

  it('refuses at declaration what the policy does not allow: no credential, and actions under it drift', async () => {
    const banker = await h.newAgent('banker');
    const noApproval = await banker.declareIntent({ ...base, allowedTools: ['send_money'] });
    const approved = await banker.declareIntent({ ...base, allowedTools: ['send_money'], approvalRef: 'CHG-4711' });
    const tooLong = await banker.declareIntent({ ...base, allowedTools: ['get_balance'], validForMs: 2 * 3600 * 1000 });

    expect(await intentRow(noApproval.intentId)).toMatchObject({ status: 'denied', denied_for: 'APPROVAL_REQUIRED' });
    expect((await findingsOf(noApproval.event.envelope.eventId)).map((f) => [f.reason_code, f.severity, f.tool, f.detail])).toEqual([
      ['APPROVAL_REQUIRED', 'high', '', `intent ${noApproval.intentId} declares tool send_money without an approval reference`],
    ]);
    expect(await intentRow(approved.intentId)).toMatchObject({ status: 'open', denied_for: null });
    expect(await intentRow(tooLong.intentId)).toMatchObject({ status: 'denied', denied_for: 'WINDOW_TOO_LONG' });
    expect(await credentialOf(noApproval.intentId)).toBeNull();
    expect(await credentialOf(approved.intentId)).toBe('active');

    const pay = await banker.reportAction({ intentId: noApproval.intentId, tool: 'send_money', args: { recipient: 'DE89370400440532013000', amount: 10, subject: 'rent', date: '2026-01-01' } });
    expect((await findingsOf(pay.event.envelope.eventId)).map((f) => [f.reason_code, f.severity])).toEqual([['APPROVAL_REQUIRED', 'critical']]);
  });

  it('lets a child intent only narrow its parent, and judges an action three hops down against the root', async () => {
    const planner = await h.newAgent('planner');
    const researcher = await h.newAgent('researcher');
    const mailer = await h.newAgent('mailer');
    const scope = { task: 'tell the team', purpose: 'notify', dataClasses: ['email'] };
    const root = await planner.declareIntent({ ...scope, allowedTools: ['send_email', 'search_emails'], allowedTargets: [{ kind: 'email', value: '*@example.com', match: 'pattern' }] });
    await intentRow(root.intentId);
    const mid = await researcher.declareIntent({ ...scope, parentIntentId: root.intentId, allowedTools: ['send_email'], allowedTargets: [{ kind: 'email', value: 'team-*@example.com', match: 'pattern' }], validForMs: 10 * 60 * 1000 });
    expect(await intentRow(mid.intentId)).toMatchObject({ status: 'open', parent_intent_id: root.intentId, root_intent_id: root.intentId });
    const leaf = await mailer.declareIntent({ ...scope, parentIntentId: mid.intentId, allowedTools: ['send_email'], allowedTargets: [{ kind: 'email', value: 'team-ops@example.com' }], validForMs: 5 * 60 * 1000 });
    const escalated = await mailer.declareIntent({
      ...scope, parentIntentId: mid.intentId, allowedTools: ['send_email', 'delete_email'], allowedTargets: [{ kind: 'email', value: 'eve@evil.net' }], validForMs: 5 * 60 * 1000,
    });
    expect(await intentRow(leaf.intentId)).toMatchObject({ status: 'open', root_intent_id: root.intentId });
    expect(await intentRow(escalated.intentId)).toMatchObject({ status: 'denied', denied_for: 'DELEGATION_ESCALATION' });
    const [esc] = await findingsOf(escalated.event.envelope.eventId);
    expect(esc!.detail).toBe(
      `intent ${escalated.intentId} claims more than it was delegated: tool(s) delete_email not in parent ${mid.intentId}; target(s) email:eve@evil.net not covered by parent ${mid.intentId}`,
    );
    // Three hops down: a fourth level exceeds the policy's depth of 2.
    const tooDeep = await (await h.newAgent('deep')).declareIntent({ ...scope, parentIntentId: leaf.intentId, allowedTools: ['send_email'], allowedTargets: [{ kind: 'email', value: 'team-ops@example.com' }], validForMs: 60_000 });
    expect(await intentRow(tooDeep.intentId)).toMatchObject({ status: 'denied', denied_for: 'DELEGATION_ESCALATION' });

    const send = (to: string) => mailer.reportAction({ intentId: leaf.intentId, tool: 'send_email', args: { recipients: [to], subject: 's', body: 'b' } });
    const ok = await send('team-ops@example.com');
    expect((await actionRow(ok.event.envelope.eventId)).in_scope).toBe(true);
    // The planner closes the root: the leaf is still open, but nothing under the root may act any more.
    await planner.closeIntent(root.intentId);
    await eventually(async () => ((await intentRow(root.intentId)) as { status: string }).status === 'closed' || undefined, 30_000, 'root closed');
    const late = await send('team-ops@example.com');
    const f = await findingsOf(late.event.envelope.eventId);
    expect(f.map((x) => x.reason_code)).toEqual(['INTENT_CLOSED']);
    expect(f[0]!.detail).toBe(`under root intent ${root.intentId} (2 delegations up): send_email came after intent ${root.intentId} was closed`);
    expect(await credentialOf(leaf.intentId)).toBe('revoked');
  });

  it('holds a delegated intent whose parent arrives later (another agent), then judges it and its actions as if in order', async () => {
    const planner = await h.newAgent('late-parent');
    const worker = await h.newAgent('early-child');
    const window = { notBefore: new Date(Date.now() - 1000).toISOString(), notAfter: new Date(Date.now() + 600_000).toISOString() };
    const parentId = `int_parent_${planner.agentId}`;
    const parent = planner.sign('intent.declared', { intentId: parentId, task: 't', purpose: 'p', allowedTools: ['get_balance', 'send_money'], allowedTargets: [], dataClasses: ['financial'], window, approvalRef: 'CHG-1' });
    const child = await worker.declareIntent({ task: 't', purpose: 'p', parentIntentId: parentId, allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'], validForMs: 60_000 });
    expect(await intentRow(child.intentId)).toMatchObject({ status: 'pending' });
    const act = await worker.reportAction({ intentId: child.intentId, tool: 'get_balance', args: {} });
    await eventually(async () => (await h.pool.query('SELECT 1 FROM pending_actions WHERE event_id = $1', [act.event.envelope.eventId])).rows[0], 30_000, 'action held');
    await h.producer.send({ topic: h.config.topics.events, messages: [{ key: planner.agentId, value: parent.bytes }] });
    await eventually(async () => ((await intentRow(child.intentId)) as { status: string }).status === 'open' || undefined, 30_000, 'child decided');
    expect(await intentRow(child.intentId)).toMatchObject({ status: 'open', root_intent_id: parentId });
    expect((await actionRow(act.event.envelope.eventId)).in_scope).toBe(true);
    expect(await credentialOf(child.intentId)).toBe('active');
  });

  it('refuses a delegated intent whose parent never arrives, once the grace window has passed, and its actions with it', async () => {
    const worker = await h.newAgent('orphan');
    const child = await worker.declareIntent({ task: 't', purpose: 'p', parentIntentId: 'int_never_declared', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'], validForMs: 60_000 });
    const act = await worker.reportAction({ intentId: child.intentId, tool: 'get_balance', args: {} });
    const f = await findingsOf(act.event.envelope.eventId);
    expect(f.map((x) => x.reason_code)).toEqual(['DELEGATION_ESCALATION']);
    expect(await intentRow(child.intentId)).toMatchObject({ status: 'denied', denied_for: 'DELEGATION_ESCALATION' });
    expect((await findingsOf(child.event.envelope.eventId))[0]!.detail).toBe(`intent ${child.intentId} names parent int_never_declared, which is not in the ledger`);
  });

  it('spends an action budget, then flags', async () => {
    const agent = await h.newAgent('budget');
    const { intentId } = await agent.declareIntent({ task: 'check twice', purpose: 'p', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'], maxActions: 2 });
    const a = [];
    for (let i = 0; i < 3; i++) a.push(await agent.reportAction({ intentId, tool: 'get_balance', args: {} }));
    expect((await actionRow(a[1]!.event.envelope.eventId)).in_scope).toBe(true);
    expect((await findingsOf(a[2]!.event.envelope.eventId)).map((x) => [x.reason_code, x.detail])).toEqual([
      ['BUDGET_EXCEEDED', `get_balance is action 3 under intent ${intentId}, whose budget is 2`],
    ]);
  });

  it("counts every child's actions against a delegating parent's budget, so splitting the task cannot multiply it", async () => {
    const lead = await h.newAgent('budget-lead');
    const worker = await h.newAgent('budget-worker');
    const scope = { task: 't', purpose: 'p', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'] };
    const parent = await lead.declareIntent({ ...scope, maxActions: 3 });
    await intentRow(parent.intentId);
    const kids = [];
    for (let i = 0; i < 2; i++) kids.push(await worker.declareIntent({ ...scope, parentIntentId: parent.intentId, maxActions: 2, validForMs: 60_000 }));
    for (const k of kids) expect(await intentRow(k.intentId)).toMatchObject({ status: 'open' });
    const acts = [];
    for (const k of kids) for (let i = 0; i < 2; i++) acts.push(await worker.reportAction({ intentId: k.intentId, tool: 'get_balance', args: {} }));
    for (const a of acts.slice(0, 3)) expect((await actionRow(a.event.envelope.eventId)).in_scope).toBe(true);
    const fourth = await findingsOf(acts[3]!.event.envelope.eventId);
    expect(fourth.map((f) => [f.reason_code, f.detail])).toEqual([
      ['BUDGET_EXCEEDED', `under root intent ${parent.intentId} (1 delegation up): get_balance is action 4 under intent ${parent.intentId}, whose budget is 3`],
    ]);
  });

  it('refuses, on the record, a declaration of an intent id another agent declared first', async () => {
    const first = await h.newAgent('owner');
    const squatter = await h.newAgent('squatter');
    const scope = { task: 't', purpose: 'p', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'] };
    const a = await first.declareIntent({ ...scope, intentId: `int_taken_${first.agentId}` });
    await intentRow(a.intentId);
    const b = await squatter.declareIntent({ ...scope, intentId: a.intentId });
    expect((await findingsOf(b.event.envelope.eventId)).map((f) => [f.reason_code, f.detail])).toEqual([
      ['INTENT_AGENT_MISMATCH', `agent ${squatter.agentId} declares intent ${a.intentId}, which agent ${first.agentId} declared first (event ${a.event.envelope.eventId}); this declaration is refused`],
    ]);
    expect(await intentRow(a.intentId)).toMatchObject({ status: 'open' });
  });

  it('judges an action that arrives before its intent once the intent is there: same verdict as in order', async () => {
    const agent = await h.newAgent('out-of-order');
    // Signed in order (intent seq 1, action seq 2), sent in reverse: ingest ledgers the action with a SEQ_GAP and
    // the intent as a LATE_EVENT; the reconciler holds the action until its intent arrives.
    const declared = agent.sign('intent.declared', {
      intentId: 'int_ooo_' + agent.agentId, task: 't', purpose: 'p', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'],
      window: { notBefore: new Date(Date.now() - 1000).toISOString(), notAfter: new Date(Date.now() + 600_000).toISOString() },
    });
    const action = agent.sign('action.reported', {
      actionId: 'act_1', intentId: 'int_ooo_' + agent.agentId, tool: 'get_balance', args: {}, argsDigest: '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', targets: [], outcome: 'ok',
    });
    await h.producer.send({ topic: h.config.topics.events, messages: [{ key: agent.agentId, value: action.bytes }] });
    await eventually(async () => (await h.pool.query('SELECT 1 FROM pending_actions WHERE event_id = $1', [action.envelope.eventId])).rows[0], 30_000, 'action held');
    await h.producer.send({ topic: h.config.topics.events, messages: [{ key: agent.agentId, value: declared.bytes }] });
    expect((await actionRow(action.envelope.eventId)).in_scope).toBe(true);
    expect((await h.pool.query('SELECT count(*)::int AS n FROM pending_actions WHERE event_id = $1', [action.envelope.eventId])).rows[0].n).toBe(0);
  });

  it('judges a held action without its intent once the grace window passes', async () => {
    const agent = await h.newAgent('never');
    agent.sign('intent.declared', { intentId: 'int_lost', task: 't', purpose: 'p', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'], window: { notBefore: new Date().toISOString(), notAfter: new Date(Date.now() + 60_000).toISOString() } });
    const action = agent.sign('action.reported', { actionId: 'a', intentId: 'int_never_sent', tool: 'get_balance', args: {}, argsDigest: '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', targets: [], outcome: 'ok' });
    await h.producer.send({ topic: h.config.topics.events, messages: [{ key: agent.agentId, value: action.bytes }] });
    const f = await findingsOf(action.envelope.eventId);
    expect(f.map((x) => x.reason_code)).toEqual(['INTENT_UNKNOWN']);
    expect(h.reconciler!.metrics.overdue).toBeGreaterThan(0);
  });

  it('records an action that cited its intent before declaring it (later in its chain) as INTENT_AFTER_ACTION', async () => {
    const agent = await h.newAgent('after');
    const early = await agent.reportAction({ intentId: 'int_after_' + agent.agentId, tool: 'get_balance', args: {} });
    expect((await findingsOf(early.event.envelope.eventId)).map((x) => x.reason_code)).toEqual(['INTENT_UNKNOWN']);
    await agent.declareIntent({ intentId: 'int_after_' + agent.agentId, task: 't', purpose: 'p', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'] });
    expect((await findingsOf(early.event.envelope.eventId, 2)).map((x) => x.reason_code).sort()).toEqual(['INTENT_AFTER_ACTION', 'INTENT_UNKNOWN']);
  });

  describe('decisions at request time, each a ledger event', () => {
    let service: AuthzService;
    let agent: AgentClient;
    let intentId: string;
    const token = 'x'.repeat(40);
    const keyFile = path.join(dir, 'authz-key.json');
    const svcId = () => `${h.config.topics.events}-svc-authz`;
    beforeAll(async () => {
      const signer = await openServiceSigner({ pool: h.pool, producer: h.producer, topic: h.config.topics.events, agentId: svcId(), keyFile });
      service = await startAuthzService({ pool: h.pool, catalogue: h.catalogue, signer, token, log: createLogger('silent') });
      agent = await h.newAgent('asker');
      ({ intentId } = await agent.declareIntent({ task: 'balance', purpose: 'p', allowedTools: ['get_balance', 'send_money'], allowedTargets: [{ kind: 'iban', value: 'DE89370400440532013000' }], dataClasses: ['financial'] }));
      await intentRow(intentId);
    });
    afterAll(async () => {
      await service.close();
    });
    const post = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }) =>
      fetch(`${service.url}/v1/authorize`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const decisionRow = (eventId: string) =>
      eventually(async () => (await h.pool.query('SELECT decided_by, subject_agent_id, intent_id, tool, decision, reason_codes::text[] AS reason_codes FROM authorization_decisions WHERE event_id = $1', [eventId])).rows[0], 30_000, `decision ${eventId}`);

    it('allows an in-scope call and denies an out-of-scope one over HTTP, and ledgers both decisions', async () => {
      const allow = await post({ agentId: agent.agentId, intentId, tool: 'get_balance', args: {} });
      expect(allow.status).toBe(200);
      const a = (await allow.json()) as { decision: string; reasons: unknown[]; eventId: string };
      expect([a.decision, a.reasons]).toEqual(['allow', []]);
      const deny = await post({ agentId: agent.agentId, intentId, tool: 'send_money', args: { recipient: 'GB29NWBK60161331926819', amount: 5, subject: 's', date: '2026-01-01' } });
      const d = (await deny.json()) as { decision: string; reasons: Array<{ code: string; severity: string; frameworks: { owaspAgentic: string[] } }>; eventId: string };
      expect(d.decision).toBe('deny');
      expect(d.reasons.map((r) => [r.code, r.severity, r.frameworks.owaspAgentic])).toEqual([['TARGET_NOT_ALLOWED', 'critical', ['ASI01', 'ASI02']]]);
      expect(await decisionRow(a.eventId)).toEqual({ decided_by: svcId(), subject_agent_id: agent.agentId, intent_id: intentId, tool: 'get_balance', decision: 'allow', reason_codes: [] });
      expect(await decisionRow(d.eventId)).toMatchObject({ decision: 'deny', reason_codes: ['TARGET_NOT_ALLOWED'] });
    });

    it('refuses bad requests with a status and a reason code', async () => {
      const code = async (r: Response) => [r.status, ((await r.json()) as { error: { code: string } }).error.code];
      expect(await code(await post({ agentId: agent.agentId, intentId, tool: 'get_balance' }, { 'content-type': 'application/json' }))).toEqual([401, 'UNAUTHENTICATED']);
      expect(await code(await post({ agentId: agent.agentId, intentId, tool: 'get_balance' }, { authorization: 'Bearer wrong', 'content-type': 'application/json' }))).toEqual([401, 'UNAUTHENTICATED']);
      expect(await code(await post({ agentId: agent.agentId, tool: 'get_balance' }))).toEqual([400, 'REQUEST_INVALID']);
      expect(await code(await post('{"agentId":"a","agentId":"b"}'))).toEqual([400, 'REQUEST_INVALID']);
      expect(await code(await post({ agentId: agent.agentId, intentId, tool: 'x', args: { big: 'y'.repeat(70_000) } }))).toEqual([413, 'TOO_LARGE']);
      expect(await code(await post('x', { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }))).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
      expect(await code(await fetch(`${service.url}/v1/other`))).toEqual([404, 'NOT_FOUND']);
      expect(await code(await fetch(`${service.url}/v1/authorize`))).toEqual([405, 'METHOD_NOT_ALLOWED']);
      // U+0000 cannot be ledgered, so a request carrying one is refused before a decision is made or recorded.
      expect(await code(await post({ agentId: agent.agentId, intentId, tool: 'send\u0000money' }))).toEqual([400, 'REQUEST_INVALID']);
    });

    it('lets the SDK ask for itself, with the same evaluator, and ledgers that decision too', async () => {
      const d = await agent.authorize({ intentId, tool: 'send_money', args: { recipient: 'DE89370400440532013000', amount: 1, subject: 's', date: '2026-01-01' } });
      expect([d.decision, d.reasons]).toEqual(['allow', []]);
      const no = await agent.authorize({ intentId, tool: 'delete_file', args: { file_id: '3' } });
      expect(no.reasons.map((r) => r.code).sort()).toEqual(['DATA_CLASS_NOT_ALLOWED', 'TARGET_NOT_ALLOWED', 'TOOL_NOT_ALLOWED']);
      expect(await decisionRow(no.event.envelope.eventId)).toMatchObject({ decided_by: agent.agentId, subject_agent_id: agent.agentId, decision: 'deny' });
    });

    it('continues its own chain after a restart of the service (no fork, no gap)', async () => {
      const again = await openServiceSigner({ pool: h.pool, producer: h.producer, topic: h.config.topics.events, agentId: svcId(), keyFile });
      const { event } = await again.recordDecision({ subjectAgentId: agent.agentId, intentId, tool: 'get_balance', args: {}, decision: { decision: 'allow', reasons: [], targets: [] } });
      await decisionRow(event.envelope.eventId);
      const chain = (await h.pool.query<{ seq: string }>('SELECT seq FROM ledger_events WHERE agent_id = $1 ORDER BY seq', [svcId()])).rows.map((r) => Number(r.seq));
      expect(chain).toEqual(chain.map((_, i) => i + 1));
      expect(chain.length).toBe(3);
      expect((await h.pool.query('SELECT count(*)::int AS n FROM integrity_findings WHERE agent_id = $1', [svcId()])).rows[0].n).toBe(0);
    });
  });
});
