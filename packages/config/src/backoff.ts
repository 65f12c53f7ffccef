/**
 * Retry timing shared by every service (ClickHouse writes, consumer restarts, seals). It lives
 * beside the settings because every retry is configured by an initial and a maximum delay.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** Capped exponential backoff with full jitter in the upper half: attempt 1 waits ~initialMs. */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random) {
  const exp = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/** Sleeps `ms`, waking early (returning false) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
