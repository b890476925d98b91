import type { Delivery } from '../delivery';

/** The reconciler's alert as it was, with the delivery's id, the folded count and the highest severity. */
export function alertJson(d: Delivery): Record<string, unknown> {
  return {
    ...d.alert,
    severity: d.severity,
    deliveryId: d.deliveryId,
    count: d.count,
    findingIds: d.findingIds,
    firstSeenAt: d.firstSeenAt.toISOString(),
    lastSeenAt: d.lastSeenAt.toISOString(),
  };
}

export function formatJson(d: Delivery): string {
  return JSON.stringify(alertJson(d));
}
