import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHarness, eventually, Harness } from './pipelineHarness';
import { startApiServer, type ApiServer } from '../services/api/apiServer';
import { issueToken, loadTokens } from '../services/api/analystTokens';
import { openServiceSigner } from '../services/authz';
import { createLogger } from '../services/common/logger';
import { loadIntegrityConfig, loadOrCreateLedgerKey, signTreeHeadNow, verifyBundle } from '../services/integrity';
import type { AgentClient } from '../services/sdk';
import { runCli } from './cli';

const cli = runCli;

/**
 * The analyst API on the real Kafka and Postgres: findings, timelines, intents, credentials, integrity and evidence
 * bundles, with roles, refusals, and every query and action recorded in the ledger; and the CLI that mirrors it.
 */
describe('analyst API (real Kafka + Postgres)', () => {
  let h: Harness;
  let api: ApiServer;
  let agent: AgentClient;
  let intentId: string;
  let driftEventId: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'il-api-'));
  const tokensFile = path.join(dir, 'tokens.json');
  const tokens = { viewer: '', responder: '', admin: '' };
  const apiAgentId = () => `${h.config.topics.events}-svc-api`;
  const ledgerKey = loadOrCreateLedgerKey(loadIntegrityConfig().keyFile);
  /** Before this file's agents act: with --runInBand, findings after it are this file's own. */
  const started = new Date().toISOString();

  beforeAll(async () => {
    h = await createHarness();
    await h.startIngest();
    await h.startReconciler();
    tokens.viewer = issueToken(tokensFile, 'vera', 'viewer');
    tokens.responder = issueToken(tokensFile, 'rory', 'responder');
    tokens.admin = issueToken(tokensFile, 'ada', 'admin');
    const signer = await openServiceSigner({ pool: h.pool, producer: h.producer, topic: h.config.topics.events, agentId: apiAgentId(), keyFile: path.join(dir, 'api-key.json') });
    api = await startApiServer({ pool: h.pool, producer: h.producer, revocationsTopic: h.config.topics.revocations, signer, tokens: () => loadTokens(tokensFile), log: createLogger('silent') });

    agent = await h.newAgent('analysed');
    ({ intentId } = await agent.declareIntent({ task: 'What is my balance?', purpose: 'answer', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'] }));
    await agent.reportAction({ intentId, tool: 'get_balance', args: {} });
    const bad = await agent.reportAction({ intentId, tool: 'send_money', args: { recipient: 'US133000000121212121212', amount: 100, subject: 'x', date: '2022-01-01' } });
    driftEventId = bad.event.envelope.eventId;
    await eventually(async () => (await h.pool.query("SELECT 1 FROM credentials WHERE intent_id = $1 AND status = 'revoked'", [intentId])).rows[0], 30_000, 'drift revoked');
  });
  afterAll(async () => {
    await api?.close();
    await h?.stop();
  });

  const get = (p: string, token: string | null = tokens.viewer) => fetch(`${api.url}${p}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const post = (p: string, body: unknown, token = tokens.responder) =>
    fetch(`${api.url}${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = async <T = any>(r: Response): Promise<T> => (await r.json()) as T;
  const errorOf = async (r: Response) => [r.status, (await json(r)).error.code];

  it('publishes an OpenAPI 3.1 document generated from the request and response schemas', async () => {
    const doc = await json(await fetch(`${api.url}/openapi.json`));
    expect(doc.openapi).toBe('3.1.0');
    const findings = doc.paths['/v1/findings'].get;
    expect(findings.parameters.map((p: { name: string }) => p.name)).toEqual(['agent', 'intent', 'reason', 'severity', 'since', 'until', 'acknowledged', 'limit', 'cursor']);
    expect(findings.parameters.find((p: { name: string }) => p.name === 'severity').schema.enum).toEqual(['low', 'medium', 'high', 'critical']);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/v1/agents', '/v1/agents/{id}', '/v1/agents/{id}/timeline', '/v1/audit', '/v1/credentials', '/v1/credentials/{id}', '/v1/credentials/{id}/revoke', '/v1/evidence',
      '/v1/findings', '/v1/findings/{id}', '/v1/findings/{id}/acknowledge', '/v1/integrity', '/v1/intents/{id}', '/v1/stats/agents', '/v1/stats/credentials', '/v1/stats/findings',
    ]);
    expect(doc.paths['/v1/stats/findings'].get.parameters.find((p: { name: string }) => p.name === 'bucket').schema.enum).toEqual(['minute', 'hour', 'day']);
    expect(doc.paths['/v1/credentials/{id}/revoke'].post.requestBody.content['application/json'].schema.required).toEqual(['reason']);
  });

  it('filters and pages drift findings', async () => {
    const all = await json(await get(`/v1/findings?agent=${agent.agentId}`));
    expect(all.items.map((f: { reasonCode: string }) => f.reasonCode).sort()).toEqual(['TARGET_NOT_ALLOWED', 'TOOL_NOT_ALLOWED']);
    expect(all.items.every((f: { eventId: string; frameworks: { owaspAgentic: string[] } }) => f.eventId === driftEventId && f.frameworks.owaspAgentic.length > 0)).toBe(true);
    const critical = await json(await get(`/v1/findings?agent=${agent.agentId}&severity=critical`));
    expect(critical.items.every((f: { severity: string }) => f.severity === 'critical')).toBe(true);
    expect(critical.items.length).toBeGreaterThan(0);
    const p1 = await json(await get(`/v1/findings?agent=${agent.agentId}&limit=1`));
    expect(p1.items).toHaveLength(1);
    const p2 = await json(await get(`/v1/findings?agent=${agent.agentId}&limit=1&cursor=${p1.nextCursor}`));
    expect(p2.items[0].id).not.toBe(p1.items[0].id);
    expect(Number(p2.items[0].id)).toBeLessThan(Number(p1.items[0].id));
    expect((await json(await get(`/v1/findings?agent=${agent.agentId}&since=2999-01-01T00:00:00Z`))).items).toEqual([]);
  });

  it('refuses bad and unauthorised requests with a status and a reason code, and records the refusal of a known analyst', async () => {
    expect(await errorOf(await get('/v1/findings', null))).toEqual([401, 'UNAUTHENTICATED']);
    expect(await errorOf(await get('/v1/findings', 'ilt_not-a-token'))).toEqual([401, 'UNAUTHENTICATED']);
    expect(await errorOf(await get('/v1/findings?severity=severe'))).toEqual([400, 'REQUEST_INVALID']);
    expect(await errorOf(await get('/v1/findings?colour=red'))).toEqual([400, 'REQUEST_INVALID']);
    expect(await errorOf(await get('/v1/findings?limit=100000'))).toEqual([400, 'REQUEST_INVALID']);
    expect(await errorOf(await get('/v1/findings/999999999'))).toEqual([404, 'NOT_FOUND']);
    expect(await errorOf(await get('/v1/findings/abc'))).toEqual([404, 'NOT_FOUND']);
    expect(await errorOf(await get('/v1/findings/99999999999999999999'))).toEqual([404, 'NOT_FOUND']);
    expect(await errorOf(await get('/v1/findings?cursor=9999999999999999999'))).toEqual([400, 'REQUEST_INVALID']);
    expect(await errorOf(await get('/v1/findings/%00'))).toEqual([400, 'REQUEST_INVALID']);
    expect(await errorOf(await get('/v1/findings?agent=a%00b'))).toEqual([400, 'REQUEST_INVALID']);
    expect(await errorOf(await get('/v1/nothing'))).toEqual([404, 'NOT_FOUND']);
    expect(await errorOf(await post('/v1/findings', {}))).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect(await errorOf(await get('/v1/evidence'))).toEqual([400, 'REQUEST_INVALID']);
    const [first] = (await json(await get(`/v1/findings?agent=${agent.agentId}`))).items;
    expect(await errorOf(await post(`/v1/findings/${first.id}/acknowledge`, {}, tokens.viewer))).toEqual([403, 'FORBIDDEN']);
    expect(await errorOf(await post(`/v1/findings/${first.id}/acknowledge`, { note: 1 }))).toEqual([400, 'REQUEST_INVALID']);
    expect(await errorOf(await get('/v1/audit'))).toEqual([403, 'FORBIDDEN']);
    const refused = await eventually(async () =>
      (await h.pool.query(`SELECT payload FROM ledger_events WHERE agent_id = $1 AND type = 'analyst.activity' AND payload->>'action' = 'refused'`, [apiAgentId()])).rows.length >= 2 || undefined,
    30_000, 'refusals in the ledger');
    expect(refused).toBe(true);
  });

  it('lets a responder acknowledge a finding, once, with a note', async () => {
    const [first] = (await json(await get(`/v1/findings?agent=${agent.agentId}&acknowledged=false`))).items;
    const acked = await json(await post(`/v1/findings/${first.id}/acknowledge`, { note: 'looked at it; tenant notified' }));
    expect([acked.acknowledgedBy, acked.ackNote]).toEqual(['rory', 'looked at it; tenant notified']);
    const again = await json(await post(`/v1/findings/${first.id}/acknowledge`, { note: 'second' }, tokens.admin));
    expect([again.acknowledgedBy, again.ackNote, again.acknowledgedAt]).toEqual(['rory', 'looked at it; tenant notified', acked.acknowledgedAt]);
    expect((await json(await get(`/v1/findings?agent=${agent.agentId}&acknowledged=true`))).items.map((f: { id: string }) => f.id)).toContain(first.id);
  });

  it("shows an agent's timeline and an intent beside its actions", async () => {
    const t = await json(await get(`/v1/agents/${agent.agentId}/timeline`));
    expect(t.items.map((e: { seq: number; type: string; inScope: boolean | null }) => [e.seq, e.type, e.inScope])).toEqual([
      [1, 'intent.declared', null], [2, 'action.reported', true], [3, 'action.reported', false],
    ]);
    expect(t.items[2].findings.length).toBeGreaterThan(0);
    const i = await json(await get(`/v1/intents/${intentId}`));
    expect([i.status, i.credential.status, i.actions.map((a: { tool: string; inScope: boolean }) => [a.tool, a.inScope])]).toEqual(['open', 'revoked', [['get_balance', true], ['send_money', false]]]);
    const a = await json(await get(`/v1/agents/${agent.agentId}`));
    expect([a.events, a.lastSeq, a.revokedCredentials, a.keys.length]).toEqual([3, 3, 1, 1]);
  });

  it('revokes a credential by hand, tells the gateways, and refuses to revoke it twice', async () => {
    const revoked: Array<Record<string, unknown>> = [];
    const consumer = h.kafka.consumer({ groupId: `${h.config.topics.revocations}.api-watch` });
    await consumer.connect();
    await consumer.subscribe({ topic: h.config.topics.revocations, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void revoked.push(JSON.parse(message.value!.toString())) });
    try {
      const { intentId: other } = await agent.declareIntent({ task: 'later', purpose: 'p', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'] });
      const cred = await eventually(async () => (await json(await get(`/v1/credentials?intent=${other}`))).items[0], 30_000, 'credential');
      expect(cred.status).toBe('active');
      const r = await json(await post(`/v1/credentials/${cred.credentialId}/revoke`, { reason: 'tenant asked to stop the agent' }));
      expect([r.status, r.revocation.reasonCode, r.revocation.revokedBy, r.revocation.note]).toEqual(['revoked', 'ANALYST_REVOKED', 'rory', 'tenant asked to stop the agent']);
      expect(await errorOf(await post(`/v1/credentials/${cred.credentialId}/revoke`, { reason: 'again' }))).toEqual([409, 'NOT_ACTIVE']);
      const notice = await eventually(async () => revoked.find((x) => x.credentialId === cred.credentialId), 30_000, 'revocation notice');
      expect(notice.reasonCode).toBe('ANALYST_REVOKED');
    } finally {
      await consumer.disconnect();
    }
  });

  it('counts findings per bucket and severity, and ranks the drifting agents', async () => {
    const until = new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const since = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const s = await json(await get(`/v1/stats/findings?bucket=minute&since=${since}&until=${until}`));
    const db = (await h.pool.query<{ severity: string; n: number }>('SELECT severity::text, count(*)::int AS n FROM drift_findings WHERE created_at >= $1 AND created_at < $2 GROUP BY 1', [s.since, until])).rows;
    const want = Object.fromEntries(['low', 'medium', 'high', 'critical'].map((sev) => [sev, db.find((r) => r.severity === sev)?.n ?? 0]));
    expect(s.bySeverity).toEqual(want);
    expect(s.total).toBe(db.reduce((n, r) => n + r.n, 0));
    expect(s.buckets.length).toBeGreaterThanOrEqual(60);
    expect(s.buckets.reduce((n: number, b: { critical: number }) => n + b.critical, 0)).toBe(want.critical);
    expect(Object.values(s.byReason as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(s.total);
    expect(await errorOf(await get('/v1/stats/findings?bucket=minute&since=2020-01-01T00:00:00Z'))).toEqual([400, 'REQUEST_INVALID']);
    expect(await errorOf(await get('/v1/stats/findings?bucket=week'))).toEqual([400, 'REQUEST_INVALID']);

    const top = await json(await get(`/v1/stats/agents?limit=100&since=${started}`));
    const mine = top.items.find((a: { agentId: string }) => a.agentId === agent.agentId);
    // One drifting action with two findings; two credentials revoked (by the drift, and by hand in the test above).
    expect([mine.driftingActions, mine.findings, mine.revokedCredentials]).toEqual([1, 2, 2]);
    const c = await json(await get('/v1/stats/credentials'));
    const n = (await h.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM credentials WHERE status = 'revoked'")).rows[0]!.n;
    expect(c.revoked).toBe(n);
    expect(c.latencyMs.p99).toBeGreaterThanOrEqual(c.latencyMs.p50);
  });

  it('reports ledger integrity', async () => {
    await signTreeHeadNow(h.pool, ledgerKey, createLogger('silent'));
    const s = await json(await get('/v1/integrity'));
    expect(Number(s.ledgerSize)).toBeGreaterThan(0);
    expect(s.latestTreeHead.keyId).toBe(ledgerKey.keyId);
  });

  it('exports an evidence bundle that verifies offline, and fails when an event in it is altered', async () => {
    await eventually(async () => (await h.pool.query(`SELECT count(*)::int AS n FROM ledger_events WHERE payload->>'intentId' = $1`, [intentId])).rows[0].n === 3 || undefined, 30_000, 'events');
    await signTreeHeadNow(h.pool, ledgerKey, createLogger('silent'));
    const res = await get(`/v1/evidence?intent=${intentId}`);
    expect(res.headers.get('content-disposition')).toContain('attachment');
    const bundle = await json(res);
    expect(bundle.events).toHaveLength(3);
    const trusted = { key: { keyId: ledgerKey.keyId, publicKey: ledgerKey.publicKey }, source: 'test' };
    const ok = verifyBundle(Buffer.from(JSON.stringify(bundle)), trusted);
    expect(ok).toMatchObject({ ok: true, events: 3, proven: 3, notYetCovered: [] });

    const file = path.join(dir, 'bundle.json');
    writeFileSync(file, JSON.stringify(bundle));
    const good = await cli(['verify', '--bundle', file, '--public-key', Buffer.from(ledgerKey.publicKey).toString('base64url')]);
    expect([good.code, good.stdout.split('\n')[0]]).toEqual([0, `bundle OK: intent ${intentId}: 3 events, signatures and unbroken chains check out; 3 proven in the ledger's tree of ${bundle.treeHead.treeSize} leaves signed ${bundle.treeHead.timestamp}`]);
    // Without a pinned ledger key the same file only shows itself consistent: not a pass.
    const unpinned = await cli(['verify', '--bundle', file], { IL_LEDGER_KEY_FILE: path.join(dir, 'no-such-key.json'), IL_LEDGER_PUBLIC_KEY: '' });
    expect([unpinned.code, unpinned.stdout.split('\n')[0]]).toEqual([3, `bundle SELF-CONSISTENT ONLY: intent ${intentId}: 3 events, signatures and unbroken chains check out; 3 proven in the ledger's tree of ${bundle.treeHead.treeSize} leaves signed ${bundle.treeHead.timestamp}`]);

    // Selection tampering: an event left out, one twice, two swapped, another subject.
    const problem = (b: unknown) => {
      const c = verifyBundle(Buffer.from(JSON.stringify(b)), trusted);
      return c.ok ? 'ok' : c.problem;
    };
    const ev = bundle.events as unknown[];
    expect(problem({ ...bundle, events: [ev[0], ev[2]] })).toBe('CHAIN_BROKEN');
    expect(problem({ ...bundle, events: [ev[1], ev[2]] })).toBe('SUBJECT_MISMATCH');
    expect(problem({ ...bundle, events: [ev[0], ev[1], ev[1], ev[2]] })).toBe('ORDER_INVALID');
    expect(problem({ ...bundle, events: [ev[0], ev[2], ev[1]] })).toBe('CHAIN_BROKEN'); // seq 3 cannot follow seq 1
    expect(problem({ ...bundle, events: [] })).toBe('SUBJECT_MISMATCH');
    expect(problem({ ...bundle, subject: { kind: 'intent', id: 'int_other' } })).toBe('SUBJECT_MISMATCH');
    expect(problem({ ...bundle, subject: { kind: 'agent', id: agent.agentId } })).toBe('ok'); // the agent's whole chain is these three
    expect(problem({ ...bundle, subject: { kind: 'agent', id: 'someone-else' } })).toBe('SUBJECT_MISMATCH');

    const raw = Buffer.from(bundle.events[1].raw, 'base64url').toString('utf8').replace('"get_balance"', '"get_balanze"');
    const tampered = { ...bundle, events: bundle.events.map((e: { raw: string }, i: number) => (i === 1 ? { ...e, raw: Buffer.from(raw).toString('base64url') } : e)) };
    writeFileSync(file, JSON.stringify(tampered));
    const bad = await cli(['verify', '--bundle', file, '--public-key', Buffer.from(ledgerKey.publicKey).toString('base64url')]);
    expect([bad.code, bad.stdout.split('\n')[0]]).toEqual([1, `BUNDLE INVALID: EVENT_MISMATCH at event ${bundle.events[1].leaf.eventId}: event.raw does not hash to leaf.rawSha256`]);
  });

  it('mirrors the API in the CLI, with --json', async () => {
    const env = { IL_API_URL: api.url, IL_API_TOKEN: tokens.viewer };
    const ls = await cli(['drift', 'ls', '--agent', agent.agentId, '--json'], env);
    expect(ls.code).toBe(0);
    expect((JSON.parse(ls.stdout) as Array<{ eventId: string }>).every((f) => f.eventId === driftEventId)).toBe(true);
    const text = await cli(['agents', 'show', agent.agentId], env);
    expect(text.stdout).toContain(`agent ${agent.agentId}`);
    expect(text.stdout).toMatch(/3 {2}\S+ {2}action\.reported {2}send_money under int_\S+ +DRIFT /);
    const denied = await cli(['revoke', 'cred_x', '--reason', 'r'], env);
    expect([denied.code, denied.stderr.trim()]).toEqual([1, `intent-ledger: POST /v1/credentials/cred_x/revoke: POST /v1/credentials/{id}/revoke needs the responder role; vera is viewer [FORBIDDEN]`]);
    const noToken = await cli(['drift', 'ls'], { IL_API_URL: api.url, IL_API_TOKEN: '' });
    expect([noToken.code, noToken.stderr.trim()]).toEqual([2, 'intent-ledger: set IL_API_TOKEN to an analyst token (`intent-ledger api-token NAME ROLE` makes one) [USAGE]']);
  });

  it("keeps the analysts' own trail in the ledger, readable by an admin", async () => {
    const trail = await eventually(async () => {
      const t = await json(await get(`/v1/audit?analyst=rory&limit=500`, tokens.admin));
      return t.items.some((e: { action: string }) => e.action === 'revoke') ? t : undefined;
    }, 30_000, 'audit trail');
    expect(trail.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['acknowledge', 'revoke']));
    expect(trail.items.every((e: { analyst: string }) => e.analyst === 'rory')).toBe(true);
    const chain = (await h.pool.query<{ seq: string }>('SELECT seq FROM ledger_events WHERE agent_id = $1 ORDER BY seq', [apiAgentId()])).rows.map((r) => Number(r.seq));
    expect(chain).toEqual(chain.map((_, i) => i + 1));
    expect(readFileSync(tokensFile, 'utf8')).not.toContain(tokens.viewer);
  });
});

