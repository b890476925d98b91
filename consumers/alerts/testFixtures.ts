import type { DriftAlert } from '../reconciler/reconcileNotice';
import type { Delivery } from './delivery';
import { frameworksFor } from '../../schema/frameworks';

/** A drift alert as the reconciler publishes it, for tests. */
export function sampleAlert(over: Partial<DriftAlert> = {}): DriftAlert {
  return {
    type: 'drift.finding', findingId: '42', agentId: 'agent-7', intentId: 'int_abc', actionEventId: 'evt_123', tool: 'send_money', reasonCode: 'TARGET_NOT_ALLOWED',
    severity: 'critical', detail: 'iban US133000000121212121212 is not in the intent', frameworks: frameworksFor('TARGET_NOT_ALLOWED'), credentialsRevoked: ['cred_x'],
    ...over,
  };
}

export function sampleDelivery(over: Partial<Delivery> = {}, alert: Partial<DriftAlert> = {}): Delivery {
  const a = sampleAlert(alert);
  return {
    deliveryId: 'dlv_test', sink: 'soc', alert: a, severity: a.severity, count: 1, findingIds: [a.findingId],
    firstSeenAt: new Date('2026-03-01T10:00:00.000Z'), lastSeenAt: new Date('2026-03-01T10:00:00.000Z'), ...over,
  };
}
