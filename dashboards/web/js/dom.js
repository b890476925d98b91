/**
 * The dashboard's only way to make DOM. Every value becomes a text node or an attribute set with setAttribute; no
 * string ever goes through an HTML parser, so tool arguments, channel names and task texts that an attacker chose
 * show as the characters they are.
 */
const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'style' || k.startsWith('on')) throw new Error(`dom: attribute ${k} is not allowed`);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** Appends children: nodes as they are, anything else (numbers, strings from the API) as text. */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** An HTML element: h('td', { class: 'num' }, count). */
export const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);

/** An SVG element. */
export const s = (tag, attrs, ...children) => build(document.createElementNS(SVG_NS, tag), attrs, children);

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A hash link inside the dashboard; path parts are percent-encoded, so an id cannot leave the page's own routes. */
export function route(parts, query = {}) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  return `#/${parts.map((p) => encodeURIComponent(String(p))).join('/')}${q.size ? `?${q}` : ''}`;
}

export const link = (parts, query, ...children) => h('a', { href: route(parts, query) }, ...children);

/** UTC, to the second: one clock for everything on the page. */
export function time(iso) {
  if (!iso) return '—';
  return h('time', { datetime: iso }, `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`);
}

/** The time of day only, the full instant in the datetime attribute and the tooltip (for tables where the day repeats). */
export function clock(iso) {
  if (!iso) return '—';
  return h('time', { datetime: iso, title: iso }, `${iso.slice(11, 19)}Z`);
}

export const num = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-GB'));

export function severityBadge(sev) {
  return h('span', { class: `badge sev-${['low', 'medium', 'high', 'critical'].includes(sev) ? sev : 'unknown'}` }, sev);
}

/** A table with a caption and header cells that say what each column is. */
export function table(caption, headers, rows, attrs = {}) {
  return h(
    'table',
    attrs,
    h('caption', null, caption),
    h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col', class: x.startsWith('#') ? 'num' : null }, x.replace(/^#/, ''))))),
    h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: headers.length, class: 'empty' }, 'Nothing to show.'))),
  );
}
