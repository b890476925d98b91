import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createHarness, eventually, type Harness } from './pipelineHarness';
import { startApiServer, type ApiServer } from '../services/api/apiServer';
import { issueToken, loadTokens } from '../services/api/analystTokens';
import { DASHBOARD_DIR } from '../services/api/runApi';
import { openServiceSigner } from '../services/authz';
import { createLogger } from '../services/common/logger';
import { AgentClient, createAgentKey } from '../services/sdk';
import { registerAgentKey } from '../services/registry';
import { DEFAULT_TRACES } from '../services/demo/runAgentDojo';
import { parseTraces } from '../services/demo/agentdojo/traces';
import { deriveIntent } from '../services/demo/agentdojo/deriveIntent';
import { toAction } from '../services/demo/agentdojo/toAction';

/** The little of the browser's globals the page callbacks below touch (they run in Chromium; this project compiles without the DOM lib). */
interface PageElement { dataset: Record<string, string | undefined> }
declare const document: { getElementById(id: string): PageElement | null; querySelectorAll(selector: string): { length: number }; body: PageElement };
declare const sessionStorage: { getItem(key: string): string | null };

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', 'test-artifacts', 'dashboard');
/** Lower case on purpose: channel names are normalised to lower case, and the payload should reach the page as sent. */
const PAYLOAD = '<img src=x onerror=document.body.dataset.pwned=1>';
const TASK_PAYLOAD = 'Post the summary to <script>document.body.dataset.pwned=2</script> please';

/**
 * The web dashboard in a real browser (Debian's headless Chromium) against the real pipeline: a slice of the AgentDojo
 * runs and one hostile agent go through ingest and the reconciler, the API serves the dashboard, and what the page
 * shows is compared with the database.
 */
describe('web dashboard (headless Chromium, real Kafka + Postgres)', () => {
  let h: Harness;
  let api: ApiServer;
  let browser: Browser;
  let page: Page;
  let token = '';
  let hostile: AgentClient;
  const agents: string[] = [];
  const pageErrors: string[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'il-dash-'));
  const tokensFile = path.join(dir, 'tokens.json');
  const count = async (sql: string, args: unknown[] = []) => (await h.pool.query<{ n: number }>(sql, args)).rows[0]!.n;
  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`the dashboard test drives Debian's Chromium at ${CHROMIUM}, which is missing: install it with \`apt-get install -y chromium\` (.ci/run does)`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    h = await createHarness();
    await h.startIngest();
    await h.startReconciler();
    const prefix = h.config.topics.events.split('.')[0]!;

    // Every 20th recorded run (a spread of suites), replayed as the demo does.
    const traces = parseTraces(readFileSync(DEFAULT_TRACES, 'utf8')).filter((_, i) => i % 20 === 0);
    let actions = 0;
    await Promise.all(
      traces.map(async (trace, i) => {
        const key = createAgentKey(`${prefix}-dojo-${String(i).padStart(3, '0')}`);
        await registerAgentKey(h.pool, { agentId: key.agentId, publicKey: key.publicKey, displayName: trace.id });
        agents.push(key.agentId);
        const agent = new AgentClient({ key, producer: h.producer, topic: h.config.topics.events });
        const { intentId } = await agent.declareIntent({ ...deriveIntent(trace, h.catalogue), validForMs: 3_600_000 });
        for (const call of trace.tool_calls) {
          const a = toAction(call, h.catalogue);
          await agent.reportAction({ intentId, tool: a.tool, args: a.args, targets: a.targets });
          actions += 1;
        }
        await agent.closeIntent(intentId, 'completed');
      }),
    );

    // An agent whose task text and channel name carry markup, as an injected model might write them.
    hostile = await h.newAgent('hostile');
    const { intentId } = await hostile.declareIntent({
      task: TASK_PAYLOAD, purpose: 'post a summary', allowedTools: ['send_channel_message'], allowedTargets: [{ kind: 'channel', value: 'general' }], dataClasses: ['messages'],
    });
    await hostile.reportAction({ intentId, tool: 'send_channel_message', args: { channel: 'general', body: 'summary' } });
    await hostile.reportAction({ intentId, tool: 'send_channel_message', args: { channel: PAYLOAD, body: 'x' } });
    actions += 2;
    agents.push(hostile.agentId);

    await eventually(async () => ((await count('SELECT count(*)::int AS n FROM actions WHERE agent_id = ANY($1)', [agents])) === actions ? true : undefined), 90_000, `${actions} actions reconciled`);

    token = issueToken(tokensFile, 'dana', 'viewer');
    const signer = await openServiceSigner({ pool: h.pool, producer: h.producer, topic: h.config.topics.events, agentId: `${prefix}-svc-api`, keyFile: path.join(dir, 'api-key.json') });
    api = await startApiServer({
      pool: h.pool, producer: h.producer, revocationsTopic: h.config.topics.revocations, signer, tokens: () => loadTokens(tokensFile), dashboardDir: DASHBOARD_DIR, log: createLogger('silent'),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const numberIn = async (selector: string) => Number((await page.locator(selector).first().innerText()).replace(/[^\d]/g, ''));
  /** Opens a view and waits until the app says it drew that very hash (a hash change alone reloads nothing). */
  const open = async (hash: string, ready: string) => {
    await page.goto(`${api.url}/${hash}`);
    await page.waitForFunction((want) => document.getElementById('view')?.dataset.rendered === want, hash);
    await page.locator(ready).first().waitFor();
  };

  it('serves the dashboard with a Content-Security-Policy that allows only its own files', async () => {
    const res = await fetch(`${api.url}/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(await res.text()).not.toMatch(/<script>(?!<\/script>)|https?:\/\//);
  });

  it('asks for a token, refuses a wrong one, and opens the overview with the right one', async () => {
    await page.goto(api.url);
    await page.getByRole('textbox', { name: 'Token' }).fill('ilt_wrong');
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await expect(page.getByRole('alert').innerText()).resolves.toContain('not accepted');
    await shot('0-login');
    await page.getByRole('textbox', { name: 'Token' }).fill(token);
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await page.locator('[data-testid=total-findings]').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('intent-ledger.analyst-token'))).toBe(token);
  });

  it('shows as many findings as the database holds, drift over time, and the top drifting agent', async () => {
    await open('#/overview?bucket=minute', '[data-testid=total-findings]');
    const findings = await count('SELECT count(*)::int AS n FROM drift_findings');
    expect(findings).toBeGreaterThan(0);
    expect(await numberIn('[data-testid=total-findings]')).toBe(findings);
    expect(await numberIn('[data-testid=revoked-credentials]')).toBe(await count("SELECT count(*)::int AS n FROM credentials WHERE status = 'revoked'"));
    const bars = await page.locator('svg.chart rect[class^="sev-"]').count();
    expect(bars).toBeGreaterThan(0);
    expect(await page.locator('svg.chart').getAttribute('aria-label')).toMatch(/Drift findings per minute: \d+ findings/);
    const firstAgent = await page.locator('[data-testid=top-agents] tbody tr').first().locator('a').innerText();
    const drifting = await count('SELECT count(DISTINCT action_event_id)::int AS n FROM drift_findings WHERE agent_id = $1', [firstAgent]);
    expect(await numberIn('[data-testid=top-agents] tbody tr td:nth-child(2)')).toBe(drifting);
    await shot('1-overview');
  });

  it('filters findings by agent, by severity and reason, and pages through them', async () => {
    await open(`#/findings?agent=${encodeURIComponent(hostile.agentId)}`, '[data-testid=findings-table]');
    const rows = page.locator('[data-testid=findings-table] tbody tr[data-finding]');
    const db = (await h.pool.query<{ reason_code: string }>('SELECT reason_code::text FROM drift_findings WHERE agent_id = $1', [hostile.agentId])).rows.map((r) => r.reason_code).sort();
    expect(db).toContain('TARGET_NOT_ALLOWED');
    expect(await rows.count()).toBe(db.length);
    expect((await rows.locator('td:nth-child(3)').allInnerTexts()).sort()).toEqual(db);

    await open('#/findings', '[data-testid=findings-table]');
    await page.getByLabel('Severity at least').selectOption('critical');
    await page.getByLabel('Reason').selectOption('TARGET_NOT_ALLOWED');
    await page.getByRole('textbox', { name: 'Agent' }).fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction(() => /severity=critical/.test(document.getElementById('view')?.dataset.rendered ?? ''));
    const total = await count("SELECT count(*)::int AS n FROM drift_findings WHERE severity = 'critical' AND reason_code = 'TARGET_NOT_ALLOWED'");
    const shown = await rows.count();
    expect(shown).toBe(Math.min(total, 25));
    expect(new Set(await rows.locator('td:nth-child(2)').allInnerTexts())).toEqual(new Set(['critical']));
    await shot('2-findings');
    if (total > 25) {
      const firstId = await rows.first().getAttribute('data-finding');
      await page.getByRole('link', { name: 'Older →' }).click();
      await page.waitForFunction(() => /trail=/.test(document.getElementById('view')?.dataset.rendered ?? ''));
      expect(await page.locator('[data-testid=findings-page]').innerText()).toMatch(/^Page 2/);
      expect(Number(await rows.first().getAttribute('data-finding'))).toBeLessThan(Number(firstId));
    }
  });

  it("shows an agent's timeline with its intent's scope beside each action's verdict and findings", async () => {
    const drifted = (
      await h.pool.query<{ agent_id: string; event_id: string; reason_code: string }>(
        `SELECT f.agent_id, f.action_event_id AS event_id, f.reason_code::text FROM drift_findings f JOIN actions a ON a.event_id = f.action_event_id
          WHERE f.agent_id = ANY($1) AND a.in_scope = false ORDER BY f.id LIMIT 1`,
        [agents.filter((a) => a !== hostile.agentId)],
      )
    ).rows[0]!;
    expect(drifted).toBeDefined();
    await open(`#/agents/${encodeURIComponent(drifted.agent_id)}`, '[data-testid=timeline]');
    const seq = (await h.pool.query<{ seq: string }>('SELECT seq FROM ledger_events WHERE event_id = $1', [drifted.event_id])).rows[0]!.seq;
    const row = page.locator(`[data-testid=timeline] tr[data-seq="${seq}"]`);
    expect(await row.locator('.verdict').innerText()).toBe('DRIFT');
    expect(await row.innerText()).toContain(drifted.reason_code);
    const driftRows = await page.locator('[data-testid=timeline] .verdict.drift').count();
    expect(driftRows).toBe(await count('SELECT count(*)::int AS n FROM actions WHERE agent_id = $1 AND in_scope = false', [drifted.agent_id]));
    const intent = (await h.pool.query<{ allowed_tools: string[] }>('SELECT allowed_tools FROM intents WHERE agent_id = $1', [drifted.agent_id])).rows[0]!;
    const scopeText = await page.locator('[data-testid=intent-scope]').first().innerText();
    for (const tool of intent.allowed_tools) expect(scopeText).toContain(tool);
    await shot('3-agent-timeline');
  });

  it('renders attacker-controlled strings as text, never as markup', async () => {
    await open(`#/agents/${encodeURIComponent(hostile.agentId)}`, '[data-testid=timeline]');
    const text = await page.locator('main').innerText();
    expect(text).toContain(PAYLOAD);
    expect(text).toContain(TASK_PAYLOAD);
    expect(await page.locator('[data-testid=timeline] .verdict.drift').count()).toBe(1);
    expect(await page.evaluate(() => ({ imgs: document.querySelectorAll('img').length, scripts: document.querySelectorAll('script:not([src])').length, pwned: document.body.dataset.pwned ?? null })))
      .toEqual({ imgs: 0, scripts: 0, pwned: null });
    await shot('4-hostile-agent');
  });

  it('shows revocation status and ledger integrity as the database has them', async () => {
    await open('#/credentials', '[data-testid=credentials-table]');
    for (const status of ['active', 'revoked', 'expired']) {
      expect(await numberIn(`[data-testid=credentials-${status}]`)).toBe(await count('SELECT count(*)::int AS n FROM credentials WHERE status = $1', [status]));
    }
    await shot('5-credentials');
    // Every API request is itself ledgered (analyst.activity), so the ledger grows while the page loads.
    const before = Number((await h.pool.query<{ n: string }>('SELECT next_leaf_index AS n FROM ledger_tip')).rows[0]!.n);
    await open('#/integrity', '[data-testid=integrity-size]');
    const after = Number((await h.pool.query<{ n: string }>('SELECT next_leaf_index AS n FROM ledger_tip')).rows[0]!.n);
    const shown = await numberIn('[data-testid=integrity-size]');
    expect(shown).toBeGreaterThanOrEqual(before);
    expect(shown).toBeLessThanOrEqual(after);
    await shot('6-integrity');
  });

  it('raised no script error and no policy violation on any page', () => {
    // The one expected: the API's 401 to the wrong token tried above.
    expect(pageErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    expect(pageErrors.filter((e) => /status of 401/.test(e))).toHaveLength(1);
  });
});
