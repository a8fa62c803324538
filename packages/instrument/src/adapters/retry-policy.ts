/** When and how long the fetch adapter waits before it sends a failed model request again. */
export interface RetryPolicy {
  /** Most retries after the first attempt. Default 2. */
  readonly maxRetries: number;
  /** Backoff before the first retry, doubled for each further retry. Default 250 ms. */
  readonly baseDelayMs: number;
  /** Longest backoff, also the cap on a server's `Retry-After`. Default 4000 ms. */
  readonly maxDelayMs: number;
  /** Response statuses that are retried. Default 408, 429, 500, 502, 503, 504. */
  readonly retryStatuses: readonly number[];
  /** Random share of each delay (0: exact exponential backoff, 0.5: half of it random). Default 0.5. */
  readonly jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxRetries: 2,
  baseDelayMs: 250,
  maxDelayMs: 4000,
  retryStatuses: Object.freeze([408, 429, 500, 502, 503, 504]),
  jitter: 0.5,
});

export function resolveRetryPolicy(options: Partial<RetryPolicy> = {}): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, ...options };
}

/**
 * Delay before retry number `retry` (1-based): exponential backoff with jitter, or the server's
 * `Retry-After` (seconds or an HTTP date) when it gave one, capped at `maxDelayMs` either way.
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, retryAfter?: string | null): number {
  const fromHeader = parseRetryAfterMs(retryAfter);
  if (fromHeader !== undefined) return Math.min(fromHeader, policy.maxDelayMs);
  const exponential = Math.min(policy.baseDelayMs * 2 ** (retry - 1), policy.maxDelayMs);
  const jitter = Math.min(Math.max(policy.jitter, 0), 1);
  return Math.round(exponential * (1 - jitter) + exponential * jitter * Math.random());
}

/** A Retry-After header (delay-seconds or an HTTP date) as milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfterMs(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Waits `ms`, or less if `signal` aborts (then rejects with the signal's reason). */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
