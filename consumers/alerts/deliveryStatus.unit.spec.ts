import { renderDeliveryStatus } from './deliveryStatus';

describe('renderDeliveryStatus', () => {
  it('says per sink what was delivered, what waits and why, and what failed for good', () => {
    const text = renderDeliveryStatus({
      sourceTopic: 'il.alerts',
      alerts: { recorded: 12, rejected: 1 },
      sinks: [
        { sink: 'siem', pending: 2, delivered: 9, failed: 0, nextAttemptAt: '2026-03-01T10:00:30.000Z' },
        { sink: 'web', pending: 0, delivered: 11, failed: 1, nextAttemptAt: null },
      ],
      undelivered: [
        { deliveryId: 'dlv_a', sink: 'siem', status: 'pending', findingIds: ['7'], severity: 'high', count: 1, attempts: 3, lastError: 'SINK_UNREACHABLE: syslog tcp 10.0.0.5:6514: ECONNREFUSED', nextAttemptAt: '2026-03-01T10:00:30.000Z', firstSeenAt: '2026-03-01T09:59:00.000Z' },
        { deliveryId: 'dlv_b', sink: 'web', status: 'failed', findingIds: ['8', '9'], severity: 'critical', count: 2, attempts: 1, lastError: 'SINK_REJECTED: POST https://soc/: HTTP 401', nextAttemptAt: null, firstSeenAt: '2026-03-01T09:58:00.000Z' },
      ],
    });
    expect(text.split('\n')).toEqual([
      'alerts     12 recorded from il.alerts, 1 records that were not alerts',
      'sink siem: 9 delivered, 2 pending, 0 failed; next attempt 2026-03-01T10:00:30.000Z',
      'sink web: 11 delivered, 0 pending, 1 failed',
      '  pending siem dlv_a (findings 7, high, x1) after 3 attempt(s), next attempt 2026-03-01T10:00:30.000Z: SINK_UNREACHABLE: syslog tcp 10.0.0.5:6514: ECONNREFUSED',
      '  failed  web dlv_b (findings 8,9, critical, x2) after 1 attempt(s), failed for good: SINK_REJECTED: POST https://soc/: HTTP 401',
    ]);
  });
});
