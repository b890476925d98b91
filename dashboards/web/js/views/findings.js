import { api, findingReasonCodes } from '../api.js';
import { h, link, replace, route, severityBadge, table, time } from '../dom.js';

const PAGE = 25;

/**
 * Drift findings, newest first, filtered by least severity, reason and agent, paged with the API's cursors. The
 * filters and the cursor trail live in the hash, so a page can be linked and Back works.
 */
export async function findings(view, params) {
  const filters = { severity: params.get('severity') ?? '', reason: params.get('reason') ?? '', agent: params.get('agent') ?? '' };
  const trail = (params.get('trail') ?? '').split(',').filter(Boolean);
  const cursor = trail[trail.length - 1];
  const [page, reasons] = await Promise.all([api('/v1/findings', { ...filters, limit: PAGE, cursor }), findingReasonCodes()]);

  const go = (q) => (location.hash = route(['findings'], q));
  const form = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Filter findings',
      onsubmit: (e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        go({ severity: f.get('severity'), reason: f.get('reason'), agent: String(f.get('agent') ?? '').trim() });
      },
    },
    h('label', null, 'Severity at least ', h('select', { name: 'severity' }, h('option', { value: '' }, 'any'), ['low', 'medium', 'high', 'critical'].map((s) => h('option', { value: s, selected: s === filters.severity }, s)))),
    h('label', null, 'Reason ', h('select', { name: 'reason' }, h('option', { value: '' }, 'any'), reasons.map((r) => h('option', { value: r, selected: r === filters.reason }, r)))),
    h('label', null, 'Agent ', h('input', { name: 'agent', type: 'text', value: filters.agent, size: 36, spellcheck: 'false', autocomplete: 'off' })),
    h('button', { type: 'submit' }, 'Apply'),
    h('a', { href: '#/findings', class: 'button quiet' }, 'Clear'),
  );

  const rows = page.items.map((f) =>
    h(
      'tr',
      { 'data-finding': f.id },
      h('td', { class: 'nowrap' }, time(f.createdAt)),
      h('td', null, severityBadge(f.severity)),
      h('td', { class: 'nowrap' }, h('code', null, f.reasonCode)),
      h('td', null, link(['agents', f.agentId], {}, f.agentId)),
      h('td', { class: 'nowrap' }, h('code', null, f.tool)),
      h('td', { class: 'detail' }, f.detail),
      h('td', null, f.acknowledgedAt ? ['by ', f.acknowledgedBy] : 'no'),
    ),
  );
  const pager = h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages of findings' },
    trail.length ? h('a', { class: 'button', href: route(['findings'], { ...filters, trail: trail.slice(0, -1).join(',') }) }, '← Newer') : null,
    h('span', { 'data-testid': 'findings-page' }, `Page ${trail.length + 1} · ${page.items.length} shown`),
    page.nextCursor ? h('a', { class: 'button', href: route(['findings'], { ...filters, trail: [...trail, page.nextCursor].join(',') }) }, 'Older →') : null,
  );
  replace(
    view,
    h('h2', { tabindex: '-1' }, 'Drift findings'),
    form,
    table('Drift findings, newest first', ['Time (UTC)', 'Severity', 'Reason', 'Agent', 'Tool', 'Detail', 'Acknowledged'], rows, { 'data-testid': 'findings-table', class: 'findings' }),
    pager,
  );
}
