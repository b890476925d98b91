import type { Delivery } from '../delivery';

export const TRUNCATED = ' [truncated]';

/**
 * Renders a delivery within `maxBytes` by cutting the alert's free-text detail (never an id, code or count), and
 * returns null when even an empty detail does not fit. The receiver sees `[truncated]`; the full text stays in
 * the ledger's drift_findings row.
 */
export function fitToSize(d: Delivery, maxBytes: number, render: (d: Delivery) => Buffer): Buffer | null {
  const full = render(d);
  if (full.length <= maxBytes) return full;
  const chars = [...d.alert.detail];
  const at = (n: number) => render({ ...d, alert: { ...d.alert, detail: chars.slice(0, n).join('') + TRUNCATED } });
  let lo = 0;
  let hi = chars.length - 1;
  if (at(0).length > maxBytes) return null;
  // Largest n whose rendering fits: at(lo) always fits.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (at(mid).length <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  return at(lo);
}
