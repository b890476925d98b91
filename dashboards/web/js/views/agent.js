import { api, ApiError } from '../api.js';
import { clock, h, link, num, replace, route, severityBadge, table, time } from '../dom.js';

const lookup = (value = '') =>
  h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Open an agent',
      onsubmit: (e) => {
        e.preventDefault();
        const id = String(new FormData(e.target).get('agent') ?? '').trim();
        if (id) location.hash = route(['agents', id]);
      },
    },
    h('label', null, 'Agent id ', h('input', { name: 'agent', type: 'text', value, size: 48, spellcheck: 'false', autocomplete: 'off', required: true })),
    h('button', { type: 'submit' }, 'Open timeline'),
  );

/** Agents by id, with their counts; each links to its timeline. */
export async function agents(view, params) {
  const trail = (params.get('trail') ?? '').split(',').filter(Boolean);
  const page = await api('/v1/agents', { limit: 50, cursor: trail[trail.length - 1] });
  const rows = page.items.map((a) =>
    h(
      'tr',
      null,
      h('td', null, link(['agents', a.agentId], {}, a.agentId), a.displayName ? h('span', { class: 'sub' }, a.displayName) : null),
      h('td', { class: 'num' }, num(a.events)),
      h('td', null, ['critical', 'high', 'medium', 'low'].filter((k) => a.findings[k]).map((k) => [severityBadge(k), ' ', a.findings[k], ' '])),
      h('td', { class: 'num' }, num(a.activeCredentials)),
      h('td', { class: 'num' }, num(a.revokedCredentials)),
      h('td', null, time(a.lastSeen)),
    ),
  );
  replace(
    view,
    h('h2', { tabindex: '-1' }, 'Agents'),
    lookup(),
    table('Agents, by id', ['Agent', '#Events', 'Findings', '#Active credentials', '#Revoked', 'Last seen (UTC)'], rows),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages of agents' },
      trail.length ? h('a', { class: 'button', href: route(['agents'], { trail: trail.slice(0, -1).join(',') }) }, '← Previous') : null,
      h('span', null, `Page ${trail.length + 1}`),
      page.nextCursor ? h('a', { class: 'button', href: route(['agents'], { trail: [...trail, page.nextCursor].join(',') }) }, 'Next →') : null,
    ),
  );
}

function verdict(e) {
  if (e.type === 'action.reported') {
    if (e.inScope === true) return h('span', { class: 'verdict ok' }, 'in scope');
    if (e.inScope === false) return h('span', { class: 'verdict drift' }, 'DRIFT');
    return h('span', { class: 'verdict pending' }, 'not judged yet');
  }
  if (e.findings.length) return h('span', { class: 'verdict drift' }, 'REFUSED');
  return h('span', { class: 'verdict neutral' }, e.type.split('.')[1] ?? e.type);
}

const chips = (items, cls = '') => (items.length ? h('ul', { class: 'chips' }, items.map((x) => h('li', { class: cls }, x))) : h('span', { class: 'muted' }, 'none'));

/** What the agent said it would do: the intent's declared scope, shown beside what it did. */
function scope(intent) {
  if (!intent) return h('div', { class: 'scope' }, h('p', { class: 'muted' }, 'The intent is not in the ledger (or could not be read).'));
  const targets = intent.allowedTargets.map((t) => `${t.kind}: ${t.value}${t.match === 'pattern' ? ' (pattern)' : ''}`);
  return h(
    'div',
    { class: 'scope', 'data-testid': 'intent-scope' },
    h('dl', { class: 'facts' }, [
      h('dt', null, 'Task'), h('dd', { class: 'task' }, intent.task),
      h('dt', null, 'Purpose'), h('dd', null, intent.purpose),
      h('dt', null, 'Tools'), h('dd', null, chips(intent.allowedTools)),
      h('dt', null, 'Targets'), h('dd', null, chips(targets)),
      h('dt', null, 'Data classes'), h('dd', null, chips(intent.dataClasses)),
      h('dt', null, 'Window'), h('dd', null, time(intent.notBefore), ' → ', time(intent.notAfter)),
      h('dt', null, 'Status'), h('dd', null, intent.status, intent.deniedFor ? ` (denied: ${intent.deniedFor})` : ''),
      h('dt', null, 'Credential'), h('dd', null, intent.credential ? h('span', { class: `state state-${intent.credential.status}` }, intent.credential.status) : 'none'),
    ]),
  );
}

function eventRow(e, intent) {
  const act = intent?.actions.find((a) => a.eventId === e.eventId);
  const outOfTools = e.tool && intent && !intent.allowedTools.includes(e.tool);
  return h(
    'tr',
    { 'data-seq': e.seq, class: e.inScope === false || (e.type !== 'action.reported' && e.findings.length) ? 'drifted' : null },
    h('td', { class: 'num' }, e.seq),
    h('td', { class: 'nowrap' }, clock(e.ts)),
    h('td', { class: 'nowrap' }, e.type),
    h('td', null, e.tool ? h('code', { class: outOfTools ? 'outside' : null, title: outOfTools ? 'not among the declared tools' : null }, e.tool) : '—'),
    h('td', { class: 'targets' }, act ? chips(act.targets.map((t) => `${t.kind}: ${t.value}`)) : '—'),
    h('td', null, verdict(e)),
    h('td', { class: 'detail' }, e.findings.length ? h('ul', { class: 'findings-list' }, e.findings.map((f) => h('li', null, severityBadge(f.severity), ' ', h('code', null, f.reasonCode), ' ', f.detail))) : '—'),
  );
}

/** One agent: its counts, then its events in its own order, grouped by intent, each intent's scope beside its actions. */
export async function agentTimeline(view, params, agentId) {
  const trail = (params.get('trail') ?? '').split(',').filter(Boolean);
  let agent;
  try {
    agent = await api(`/v1/agents/${encodeURIComponent(agentId)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      replace(view, h('h2', { tabindex: '-1' }, 'Agent not found'), h('p', null, 'No agent has the id ', h('code', null, agentId), '.'), lookup(agentId));
      return;
    }
    throw e;
  }
  const timeline = await api(`/v1/agents/${encodeURIComponent(agentId)}/timeline`, { limit: 200, cursor: trail[trail.length - 1] });
  const intentIds = [...new Set(timeline.items.map((e) => e.intentId).filter(Boolean))];
  const intents = new Map(
    await Promise.all(intentIds.map(async (id) => [id, await api(`/v1/intents/${encodeURIComponent(id)}`).catch((e) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e)))])),
  );

  const groups = [];
  for (const e of timeline.items) {
    const key = e.intentId ?? '';
    let g = groups.find((x) => x.key === key);
    if (!g) groups.push((g = { key, events: [] }));
    g.events.push(e);
  }
  const heads = ['#Seq', 'Time', 'Event', 'Tool', 'Targets', 'Verdict', 'Findings'];
  const sections = groups.map((g) => {
    const intent = g.key ? intents.get(g.key) : null;
    const drifted = g.events.filter((e) => e.inScope === false).length;
    return h(
      'section',
      { class: 'intent', 'data-intent': g.key || null },
      h('h3', null, g.key ? ['Intent ', h('code', null, g.key)] : 'Events under no intent', drifted ? h('span', { class: 'verdict drift' }, `${drifted} drifting`) : null),
      h(
        'div',
        { class: 'intent-body' },
        g.key ? scope(intent) : null,
        table(g.key ? 'What the agent did under this intent' : 'Other events', heads, g.events.map((e) => eventRow(e, intent)), { class: 'timeline', 'data-testid': 'timeline' }),
      ),
    );
  });
  replace(
    view,
    h('h2', { tabindex: '-1' }, 'Agent ', h('code', null, agent.agentId)),
    agent.displayName ? h('p', { class: 'muted' }, agent.displayName) : null,
    h(
      'dl',
      { class: 'facts inline-facts' },
      h('dt', null, 'Events'), h('dd', null, num(agent.events)),
      h('dt', null, 'Findings'), h('dd', null, ['critical', 'high', 'medium', 'low'].map((k) => [severityBadge(k), ' ', agent.findings[k], ' '])),
      h('dt', null, 'Credentials'), h('dd', null, `${num(agent.activeCredentials)} active, ${num(agent.revokedCredentials)} revoked`),
      h('dt', null, 'Integrity findings'), h('dd', null, agent.integrityFindings.length ? agent.integrityFindings.map((f) => [h('code', null, f.reasonCode), ' ']) : 'none'),
    ),
    h('p', null, link(['findings'], { agent: agent.agentId }, 'This agent’s findings'), ' · ', link(['credentials'], {}, 'All credentials')),
    sections.length ? sections : h('p', null, 'No events ledgered for this agent.'),
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages of the timeline' },
      trail.length ? h('a', { class: 'button', href: route(['agents', agentId], { trail: trail.slice(0, -1).join(',') }) }, '← Earlier') : null,
      timeline.nextCursor ? h('a', { class: 'button', href: route(['agents', agentId], { trail: [...trail, timeline.nextCursor].join(',') }) }, 'Later →') : null,
    ),
  );
}
