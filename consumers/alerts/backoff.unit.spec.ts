import { afterFailure, backoffDelayMs } from './backoff';
import { routeAlert } from './route';
import { dedupeKey, deliveryIdFor } from './delivery';

const policy = { initialDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 0 };

describe('backoff', () => {
  it('doubles from the initial delay up to the cap, half fixed and half jitter', () => {
    const low = [1, 2, 3, 4, 5, 6, 7, 8, 30].map((n) => backoffDelayMs(n, policy, () => 0));
    const high = [1, 2, 3, 4, 5, 6, 7, 8, 30].map((n) => backoffDelayMs(n, policy, () => 1));
    expect(low).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(high).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(3000);
  });

  it('never retries at once and never overflows on a huge attempt count', () => {
    expect(backoffDelayMs(0, policy, () => 0)).toBe(500);
    expect(backoffDelayMs(1e9, policy, () => 0.99)).toBeLessThanOrEqual(60_000);
  });

  it('keeps retrying a retryable failure unless an attempt limit is set; gives up at once on a refusal for good', () => {
    expect(afterFailure(10_000, true, policy, () => 0)).toEqual({ status: 'retry', delayMs: 30_000 });
    expect(afterFailure(1, false, policy)).toEqual({ status: 'failed' });
    const limited = { ...policy, maxAttempts: 3 };
    expect(afterFailure(2, true, limited, () => 0).status).toBe('retry');
    expect(afterFailure(3, true, limited).status).toBe('failed');
  });
});

describe('routing and delivery identity', () => {
  const sinks = [
    { name: 'pager', severities: ['critical' as const] },
    { name: 'siem', severities: ['low' as const, 'medium' as const, 'high' as const, 'critical' as const] },
    { name: 'tickets', severities: ['medium' as const, 'high' as const] },
  ];
  it('sends each severity to the sinks that list it', () => {
    expect(routeAlert({ severity: 'critical' }, sinks).map((s) => s.name)).toEqual(['pager', 'siem']);
    expect(routeAlert({ severity: 'medium' }, sinks).map((s) => s.name)).toEqual(['siem', 'tickets']);
    expect(routeAlert({ severity: 'low' }, sinks).map((s) => s.name)).toEqual(['siem']);
    expect(routeAlert({ severity: 'low' }, [])).toEqual([]);
  });

  it('groups by agent, reason code and intent, without ambiguity between fields', () => {
    expect(dedupeKey({ agentId: 'a', reasonCode: 'SEQ_GAP', intentId: null })).not.toBe(dedupeKey({ agentId: 'a', reasonCode: 'SEQ_GAP', intentId: 'null' }));
    expect(dedupeKey({ agentId: 'a,b', reasonCode: 'FORK', intentId: 'c' })).not.toBe(dedupeKey({ agentId: 'a', reasonCode: 'FORK', intentId: 'b,c' }));
  });

  it('derives one delivery id per topic, sink and finding', () => {
    expect(deliveryIdFor('il.alerts', 'siem', '42')).toBe(deliveryIdFor('il.alerts', 'siem', '42'));
    expect(deliveryIdFor('il.alerts', 'siem', '42')).toMatch(/^dlv_[A-Za-z0-9_-]{32}$/);
    const others = [deliveryIdFor('il.alerts', 'siem', '43'), deliveryIdFor('il.alerts', 'pager', '42'), deliveryIdFor('x.alerts', 'siem', '42')];
    expect(new Set([deliveryIdFor('il.alerts', 'siem', '42'), ...others]).size).toBe(4);
  });
});
