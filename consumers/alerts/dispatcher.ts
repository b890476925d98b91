import type { Pool } from 'pg';
import type { Logger } from '../../services/common/logger';
import type { AlertSinksConfig } from './sinksConfig';
import type { Sink } from './sinks/sink';
import { SinkError } from './errors';
import { afterFailure } from './backoff';
import { claimDue, markDelivered, markFailed, markRetry, release, type ClaimedDelivery } from './outboxStore';
import type { AlertsMetrics } from './alertsMetrics';

export interface Dispatcher {
  /** Look for due deliveries now rather than at the next poll (called after intake records new ones). */
  wake(): void;
  /** Finishes the round in hand (each claimed delivery is attempted or released) and closes the sinks. */
  stop(): Promise<void>;
}

/**
 * Works off the outbox: claims due deliveries, attempts each sink's in order, one at a time per sink and sinks
 * side by side, and records the outcome. When a sink fails, the rest of its claimed deliveries are released to be
 * tried after the same backoff, so a sink that is down is probed by one delivery per backoff period while the
 * others wait, pending, for it to come back.
 */
export function startDispatcher(
  pool: Pool,
  opts: { sourceTopic: string; sinks: Sink[]; config: Pick<AlertSinksConfig, 'retry' | 'dispatch'>; log: Logger; metrics: AlertsMetrics; random?: () => number },
): Dispatcher {
  const { sourceTopic, sinks, config, log, metrics } = opts;
  const byName = new Map(sinks.map((s) => [s.name, s]));
  const names = [...byName.keys()];
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wakeUp: (() => void) | null = null;
  let woken = false;

  async function deliverAll(sink: Sink, rows: ClaimedDelivery[]): Promise<void> {
    for (let i = 0; i < rows.length; i++) {
      const d = rows[i]!;
      try {
        await sink.deliver(d);
        await markDelivered(pool, d.id);
        metrics.delivered += 1;
        continue;
      } catch (e) {
        const err = e instanceof SinkError ? e : new SinkError('SINK_UNREACHABLE', (e as Error)?.message ?? String(e), true);
        const message = `${err.code}: ${err.message}`;
        const verdict = afterFailure(d.attempts + 1, err.retryable, config.retry, opts.random);
        if (verdict.status === 'failed') {
          await markFailed(pool, d.id, message);
          metrics.failed += 1;
          log.error('alert delivery failed for good', { sink: sink.name, deliveryId: d.deliveryId, attempts: d.attempts + 1, error: message });
          continue;
        }
        await markRetry(pool, d.id, message, verdict.delayMs);
        metrics.retried += 1;
        log.warn('alert delivery failed; will retry', { sink: sink.name, deliveryId: d.deliveryId, attempts: d.attempts + 1, retryInMs: verdict.delayMs, error: message });
        await release(pool, rows.slice(i + 1).map((r) => r.id), verdict.delayMs);
        return;
      }
    }
  }

  /** One claim and its attempts; returns how many deliveries were claimed. */
  async function round(): Promise<number> {
    const claimed = await claimDue(pool, sourceTopic, names, config.dispatch.leaseMs, config.dispatch.batchSize);
    const groups = new Map<string, ClaimedDelivery[]>();
    for (const d of claimed) groups.set(d.sink, [...(groups.get(d.sink) ?? []), d]);
    await Promise.all([...groups].map(([name, rows]) => deliverAll(byName.get(name)!, rows)));
    return claimed.length;
  }

  const loop = (async () => {
    while (!stopped) {
      let full = false;
      try {
        full = (await round()) >= config.dispatch.batchSize;
      } catch (e) {
        // The database is away: what was claimed comes due again when its lease ends.
        log.error('alert dispatch round failed; will retry', { error: (e as Error).message });
      }
      if (full || stopped) continue;
      if (woken) {
        woken = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        wakeUp = resolve;
        timer = setTimeout(resolve, config.dispatch.pollMs);
      });
      wakeUp = null;
      woken = false;
    }
  })();

  return {
    wake() {
      woken = true;
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wakeUp?.();
      await loop;
      await Promise.all(sinks.map((s) => s.close().catch(() => undefined)));
    },
  };
}
