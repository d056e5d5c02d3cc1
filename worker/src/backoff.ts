/**
 * Waiting between tries, in one place: exponential backoff for retries (the job queue, the database connection, the
 * LISTEN connection, the OpenStack HTTP clients) and fixed-interval polling up to a deadline (Blazar leases, Trove
 * instances, the k3s readiness gate). It lives in the worker because the worker image ships only worker/src; the
 * Pulumi program imports it from here as it does the worker's config.
 */

export interface Backoff {
  /** Delay before the first retry. */
  readonly initialMs: number;
  /** Cap of the doubling delay. */
  readonly maxMs: number;
  /**
   * Equal jitter: wait a random time between half the delay and the delay, so clients that failed together do not
   * retry together, while each still waits at least half the delay.
   */
  readonly jitter?: boolean;
}

/** The delay before retry `retry` (0 for the first): initialMs doubled per retry, capped at maxMs. */
export function backoffDelayMs(retry: number, backoff: Backoff, random: () => number = Math.random): number {
  const d = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, retry));
  return backoff.jitter ? Math.round(d / 2 + (random() * d) / 2) : d;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface RetryOptions {
  readonly backoff: Backoff;
  /** Whether to retry after `err`, given the delay the next retry would wait; false rethrows `err`. */
  readonly shouldRetry: (err: unknown, delayMs: number) => boolean;
  readonly onRetry?: (err: unknown, delayMs: number) => void;
}

/** Runs `fn` until it succeeds or `shouldRetry` refuses, waiting the backoff between tries. */
export async function retryWithBackoff<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await fn();
    } catch (err) {
      const delayMs = backoffDelayMs(retry, options.backoff);
      if (!options.shouldRetry(err, delayMs)) throw err;
      options.onRetry?.(err, delayMs);
      await sleep(delayMs);
    }
  }
}

export interface PollOptions {
  readonly intervalMs: number;
  /** Epoch ms; no check starts after it. */
  readonly deadline: number;
  /** The error to throw when the next check would start after the deadline. */
  readonly timedOut: () => Error;
}

/**
 * Calls `check` every `intervalMs` until it returns a value (not undefined). `check` throws to stop at once (a
 * failed resource); the poll throws `timedOut()` when the next check would start after the deadline.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() + options.intervalMs > options.deadline) throw options.timedOut();
    await sleep(options.intervalMs);
  }
}
