import { h, s } from './dom.js';

/** Charts drawn as inline SVG from counts; colours come from the stylesheet (classes sev-*), the numbers stay readable in a table beside them. */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'];

/** A round step for an axis that reaches at least `max` in about `ticks` steps. */
export function niceStep(max, ticks = 4) {
  if (max <= 0) return 1;
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((x) => x >= raw);
  return Math.max(1, step);
}

const label = (iso, bucket) => (bucket === 'day' ? iso.slice(0, 10) : bucket === 'hour' ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h` : iso.slice(11, 16));

/**
 * Findings per bucket, stacked by severity. `buckets` is [{start, low, medium, high, critical}] as /v1/stats/findings
 * returns it.
 */
export function stackedBars(buckets, { bucket, title, width = 1160, height = 260 }) {
  const pad = { l: 48, r: 12, t: 12, b: 36 };
  const iw = width - pad.l - pad.r;
  const ih = height - pad.t - pad.b;
  const totals = buckets.map((b) => SEVERITIES.reduce((n, k) => n + b[k], 0));
  const step = niceStep(Math.max(0, ...totals));
  const top = Math.max(step, Math.ceil(Math.max(0, ...totals) / step) * step);
  const y = (v) => pad.t + ih - (v / top) * ih;
  const bw = iw / Math.max(1, buckets.length);
  const grid = [];
  for (let v = 0; v <= top; v += step) {
    grid.push(s('line', { x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), class: v === 0 ? 'axis' : 'grid' }));
    grid.push(s('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, v));
  }
  const every = Math.max(1, Math.ceil(buckets.length / 10));
  const bars = buckets.map((b, i) => {
    let acc = 0;
    const x = pad.l + i * bw;
    const rects = SEVERITIES.filter((k) => b[k] > 0).map((k) => {
      const r = s('rect', { x: x + bw * 0.1, width: Math.max(1, bw * 0.8), y: y(acc + b[k]), height: y(acc) - y(acc + b[k]), class: `sev-${k}` });
      acc += b[k];
      return r;
    });
    const tip = `${label(b.start, bucket)}: ${totals[i]} finding${totals[i] === 1 ? '' : 's'}${totals[i] ? ` (${SEVERITIES.filter((k) => b[k]).map((k) => `${b[k]} ${k}`).join(', ')})` : ''}`;
    return s(
      'g',
      { class: 'bar' },
      s('title', null, tip),
      s('rect', { x, width: bw, y: pad.t, height: ih, class: 'hit' }),
      rects,
      i % every === 0 ? s('text', { x: x + bw / 2, y: height - pad.b + 16, 'text-anchor': 'middle', class: 'tick' }, label(b.start, bucket)) : null,
    );
  });
  const sum = totals.reduce((a, b) => a + b, 0);
  return s(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': `${title}: ${sum} findings in ${buckets.length} ${bucket} buckets` },
    grid,
    bars,
  );
}

export function legend() {
  return h('ul', { class: 'legend', 'aria-label': 'Severity colours' }, SEVERITIES.map((k) => h('li', null, s('svg', { viewBox: '0 0 12 12', class: 'swatch', 'aria-hidden': 'true' }, s('rect', { width: 12, height: 12, class: `sev-${k}` })), k)));
}

/** A horizontal bar for a table cell: `value` of `max`, split by severity when `parts` is given. */
export function meter(value, max, parts = null) {
  const w = 160;
  const scale = max > 0 ? w / max : 0;
  let x = 0;
  const rects = parts
    ? SEVERITIES.filter((k) => parts[k] > 0).map((k) => {
        const r = s('rect', { x, y: 2, width: parts[k] * scale, height: 12, class: `sev-${k}` });
        x += parts[k] * scale;
        return r;
      })
    : [s('rect', { x: 0, y: 2, width: value * scale, height: 12, class: 'plain' })];
  return s('svg', { viewBox: `0 0 ${w} 16`, width: w, height: 16, class: 'meter', 'aria-hidden': 'true' }, rects);
}
