import { api } from '../api.js';
import { h, link, num, replace, table, time } from '../dom.js';
import { legend, meter, SEVERITIES, stackedBars } from '../charts.js';

const card = (label, value, testid, note = null) =>
  h('div', { class: 'card' }, h('p', { class: 'card-label' }, label), h('p', { class: 'card-value', 'data-testid': testid }, value), note ? h('p', { class: 'card-note' }, note) : null);

/** Drift over time, by reason, the top drifting agents, revocations and the ledger at a glance. */
export async function overview(view, params) {
  const bucket = ['minute', 'hour', 'day'].includes(params.get('bucket')) ? params.get('bucket') : 'minute';
  const [stats, top, creds, integ] = await Promise.all([
    api('/v1/stats/findings', { bucket }),
    api('/v1/stats/agents', { limit: 10 }),
    api('/v1/stats/credentials'),
    api('/v1/integrity'),
  ]);

  const cards = h(
    'section',
    { class: 'cards', 'aria-label': 'Summary' },
    card('Drift findings', num(stats.allTime), 'total-findings', `${num(stats.bySeverity.critical)} critical, ${num(stats.bySeverity.high)} high in the chart's window`),
    card('Credentials revoked', num(creds.revoked), 'revoked-credentials', `${num(creds.active)} active, ${num(creds.expired)} expired`),
    card('Revocation latency', creds.latencyMs ? `${Math.round(creds.latencyMs.p50)} ms` : '—', 'revocation-p50', creds.latencyMs ? `p50; p99 ${Math.round(creds.latencyMs.p99)} ms over ${num(creds.latencyMs.count)}` : 'no automatic revocation yet'),
    card('Ledger', `${num(integ.ledgerSize)} events`, 'ledger-size', integ.latestTreeHead ? ['signed head at ', num(integ.latestTreeHead.treeSize), ' leaves, ', time(integ.latestTreeHead.timestamp)] : 'no signed tree head yet'),
  );

  const bucketPicker = h(
    'form',
    { class: 'inline', onsubmit: (e) => e.preventDefault() },
    h('label', { for: 'bucket' }, 'Bucket '),
    h(
      'select',
      { id: 'bucket', onchange: (e) => (location.hash = `#/overview?bucket=${e.target.value}`) },
      ['minute', 'hour', 'day'].map((b) => h('option', { value: b, selected: b === bucket }, `per ${b}`)),
    ),
  );
  const title = `Drift findings per ${bucket}`;
  const chart = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'drift-title' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'drift-title' }, title), bucketPicker),
    h('p', { class: 'muted' }, `${num(stats.total)} findings from `, time(stats.since), ' to ', time(stats.until), ' (UTC).'),
    stackedBars(stats.buckets, { bucket, title }),
    legend(),
    h(
      'details',
      null,
      h('summary', null, 'Chart data as a table'),
      table(title, ['Bucket start', ...SEVERITIES.map((k) => `#${k}`)], stats.buckets.filter((b) => SEVERITIES.some((k) => b[k] > 0)).map((b) => h('tr', null, h('td', null, time(b.start)), SEVERITIES.map((k) => h('td', { class: 'num' }, b[k]))))),
    ),
  );

  const reasons = Object.entries(stats.byReason);
  const maxReason = Math.max(0, ...reasons.map(([, n]) => n));
  const byReason = h(
    'section',
    { class: 'panel half', 'aria-labelledby': 'reason-title' },
    h('h2', { id: 'reason-title' }, 'By reason'),
    table('Findings in the window by reason code', ['Reason', '#Findings', ''], reasons.map(([code, n]) => h('tr', null, h('td', { class: 'nowrap' }, link(['findings'], { reason: code }, h('code', null, code))), h('td', { class: 'num' }, num(n)), h('td', null, meter(n, maxReason))))),
  );

  const maxAgent = Math.max(0, ...top.items.map((a) => a.findings));
  const topAgents = h(
    'section',
    { class: 'panel wide', 'aria-labelledby': 'top-title' },
    h('h2', { id: 'top-title' }, 'Top drifting agents'),
    table(
      'Agents with the most drifting actions',
      ['Agent', '#Drifting actions', '#Findings', 'By severity', '#Revoked'],
      top.items.map((a) =>
        h(
          'tr',
          null,
          h('td', { class: 'agent' }, link(['agents', a.agentId], {}, a.agentId), a.displayName ? h('span', { class: 'sub clip', title: a.displayName }, a.displayName) : null),
          h('td', { class: 'num' }, num(a.driftingActions)),
          h('td', { class: 'num' }, num(a.findings)),
          h('td', null, meter(a.findings, maxAgent, a.bySeverity), h('span', { class: 'visually-hidden' }, SEVERITIES.map((k) => `${a.bySeverity[k]} ${k}`).join(', '))),
          h('td', { class: 'num' }, num(a.revokedCredentials)),
        ),
      ),
      { 'data-testid': 'top-agents' },
    ),
  );

  replace(view, h('h2', { class: 'visually-hidden', tabindex: '-1' }, 'Overview'), cards, chart, h('div', { class: 'row' }, byReason, topAgents));
}
