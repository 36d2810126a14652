import type { RetryPolicy } from '../../../ports/event-bus.js';

/**
 * Delay before redelivering a message whose attempt `attempt` (1-based) failed: exponential like Pub/Sub's retry
 * policy (min · 2^(attempt−1), capped at max), with ±25 % jitter so failed messages do not all come back at once,
 * then clamped to [min, max].
 */
export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, 'minBackoffMs' | 'maxBackoffMs'>, random = Math.random): number {
  const { minBackoffMs: min, maxBackoffMs: max } = policy;
  const base = Math.min(max, min * 2 ** Math.max(0, attempt - 1));
  const jittered = base * (0.75 + 0.5 * random());
  return Math.round(Math.min(max, Math.max(min, jittered)));
}
