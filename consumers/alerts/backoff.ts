import type { RetryPolicy } from './sinksConfig';

/**
 * How long to wait before attempt `attempt + 1` after `attempt` failures: exponential from initialDelayMs, capped
 * at maxDelayMs, with "equal jitter" (half fixed, half random) so that deliveries a dead sink held back do not all
 * retry in the same instant when it returns, yet never retry at once. `random` is in [0, 1).
 */
export function backoffDelayMs(attempt: number, policy: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(n - 1, 40));
  const half = ceiling / 2;
  return Math.round(half + half * Math.min(Math.max(random(), 0), 1));
}

export type AttemptVerdict = { status: 'retry'; delayMs: number } | { status: 'failed' };

/**
 * After a failed attempt: try again later, or give up. Only a refusal the receiver will repeat forever, or a
 * configured attempt limit, gives up; a sink that is down keeps its deliveries pending.
 */
export function afterFailure(attempts: number, retryable: boolean, policy: RetryPolicy, random: () => number = Math.random): AttemptVerdict {
  if (!retryable) return { status: 'failed' };
  if (policy.maxAttempts > 0 && attempts >= policy.maxAttempts) return { status: 'failed' };
  return { status: 'retry', delayMs: backoffDelayMs(attempts, policy, random) };
}
