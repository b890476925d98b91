import { api } from '../api.js';
import { h, link, num, replace, route, severityBadge, table, time } from '../dom.js';

const PAGE = 50;

/** Revocation status: credentials by status, and each credential with its revocation (reason, by whom, how fast). */
export async function credentials(view, params) {
  const status = ['active', 'revoked', 'expired'].includes(params.get('status')) ? params.get('status') : '';
  const trail = (params.get('trail') ?? '').split(',').filter(Boolean);
  const [stats, page] = await Promise.all([api('/v1/stats/credentials'), api('/v1/credentials', { status, limit: PAGE, cursor: trail[trail.length - 1] })]);

  const summary = h(
    'section',
    { class: 'cards', 'aria-label': 'Credentials by status' },
    ['active', 'revoked', 'expired'].map((k) =>
      h('div', { class: 'card' }, h('p', { class: 'card-label' }, link(['credentials'], { status: k }, k)), h('p', { class: 'card-value', 'data-testid': `credentials-${k}` }, num(stats[k])))),
    h(
      'div',
      { class: 'card' },
      h('p', { class: 'card-label' }, 'Revocation latency'),
      h('p', { class: 'card-value' }, stats.latencyMs ? `${Math.round(stats.latencyMs.p50)} / ${Math.round(stats.latencyMs.p99)} ms` : '—'),
      h('p', { class: 'card-note' }, 'p50 / p99, action produced → credential revoked'),
    ),
  );
  const rows = page.items.map((c) =>
    h(
      'tr',
      null,
      h('td', null, h('code', null, c.credentialId)),
      h('td', null, link(['agents', c.agentId], {}, c.agentId)),
      h('td', null, h('code', null, c.intentId)),
      h('td', null, h('span', { class: `state state-${c.status}` }, c.status)),
      h('td', null, time(c.issuedAt)),
      h('td', null, time(c.revokedAt)),
      h('td', null, c.revocation ? [h('code', null, c.revocation.reasonCode), ' ', severityBadge(c.revocation.severity)] : '—'),
      h('td', null, c.revocation ? (c.revocation.revokedBy ?? 'reconciler') : '—'),
      h('td', { class: 'num' }, c.revocation?.latencyMs != null ? Math.round(c.revocation.latencyMs) : '—'),
    ),
  );
  const pager = h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages of credentials' },
    trail.length ? h('a', { class: 'button', href: route(['credentials'], { status, trail: trail.slice(0, -1).join(',') }) }, '← Previous') : null,
    h('span', null, `Page ${trail.length + 1}`),
    page.nextCursor ? h('a', { class: 'button', href: route(['credentials'], { status, trail: [...trail, page.nextCursor].join(',') }) }, 'Next →') : null,
  );
  replace(
    view,
    h('h2', { tabindex: '-1' }, 'Credentials and revocations'),
    summary,
    h('p', null, status ? ['Showing ', h('strong', null, status), ' credentials. ', h('a', { href: '#/credentials' }, 'Show all')] : 'Showing all credentials.'),
    table('Just-in-time credentials', ['Credential', 'Agent', 'Intent', 'Status', 'Issued (UTC)', 'Revoked (UTC)', 'Reason', 'Revoked by', '#Latency ms'], rows, { 'data-testid': 'credentials-table' }),
    pager,
  );
}
