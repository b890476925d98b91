import { api } from '../api.js';
import { h, num, replace, table, time } from '../dom.js';
import { meter } from '../charts.js';

const dl = (pairs) => h('dl', { class: 'facts' }, pairs.map(([k, v, testid]) => [h('dt', null, k), h('dd', { 'data-testid': testid ?? null }, v)]));

/** Ledger integrity: size, the latest signed tree head, integrity findings and rejected records by reason. */
export async function integrity(view) {
  const s = await api('/v1/integrity');
  const head = s.latestTreeHead;
  const counts = (title, m) => {
    const entries = Object.entries(m);
    const max = Math.max(0, ...entries.map(([, n]) => n));
    return table(title, ['Reason', '#Count', ''], entries.map(([k, n]) => h('tr', null, h('td', null, h('code', null, k)), h('td', { class: 'num' }, num(n)), h('td', null, meter(n, max)))));
  };
  replace(
    view,
    h('h2', { tabindex: '-1' }, 'Ledger integrity'),
    h(
      'section',
      { class: 'panel' },
      dl([
        ['Log', h('code', null, s.logId)],
        ['Ledger size', `${num(s.ledgerSize)} events`, 'integrity-size'],
        ['Latest signed tree head', head ? [num(head.treeSize), ' leaves, signed ', time(head.timestamp)] : 'none yet', 'integrity-head'],
        ['Root hash', head ? h('code', { class: 'hash' }, head.rootHash) : '—'],
        ['Signing key', head ? h('code', null, head.keyId) : '—'],
        ['Leaves after the latest head', num(s.leavesAfterLatestHead), 'integrity-unsigned'],
      ]),
      h('p', { class: 'muted' }, 'Leaves after the latest head are protected by their signatures and chains until the next head is signed. ', h('code', null, 'intent-ledger verify'), ' re-checks all of it.'),
    ),
    h(
      'div',
      { class: 'row' },
      h('section', { class: 'panel half' }, h('h3', null, 'Integrity findings'), counts('Integrity findings by reason', s.integrityFindings)),
      h('section', { class: 'panel half' }, h('h3', null, 'Rejected records'), counts('Records refused at ingest, by reason', s.rejectedEvents)),
    ),
  );
}
