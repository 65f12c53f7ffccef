import type { KeyRevocations } from '@audit/auth';
import { unauthorized } from '@audit/auth';
import { ApiError, type Logger } from '@audit/http';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { KeyStore } from './store.ts';

/**
 * Rows are re-read this far back on every poll: an insert stamped (server clock) before a
 * poll ran may become visible only after it, so the window overlaps. Re-reading is harmless
 * (the map is a set of cut-offs).
 */
const OVERLAP_MS = 10_000;
/**
 * Cut-offs older than this are forgotten: no token outlives its key's cut-off by more than the
 * longest token lifetime (1 h, CREDENTIALS_TOKEN_TTL_SECONDS) plus the clock skew (≤ 5 min),
 * because revoked and expired keys get no new tokens.
 */
export const LOOKBACK_MS = 2 * 3600_000;

export interface RevocationPollerOptions {
  store: Pick<KeyStore, 'cutoffsSince'>;
  intervalMs: number;
  maxStalenessMs: number;
  logger: Logger;
  registry?: Registry;
  now?: () => number;
}

export interface RevocationPoller extends KeyRevocations {
  /** One poll now (the first one before serving, so a restart starts with the current set). */
  poll(): Promise<boolean>;
  start(): Promise<void>;
  stop(): void;
  /** Epoch ms of the last successful poll (0: none yet). */
  readonly lastSuccessMs: number;
}

/**
 * Every token verifier's view of revoked keys: each `intervalMs` it reads the cut-offs (revocations,
 * shortened expiries) stored since the last read, so a revocation reaches every replica within
 * about one interval plus one query. Tokens of API keys are refused with 503 once the last
 * successful read is older than `maxStalenessMs`: an unreachable store must not stretch the bound.
 */
export function createRevocationPoller(o: RevocationPollerOptions): RevocationPoller {
  const now = o.now ?? Date.now;
  const cutoffs = new Map<string, number>();
  let since = now() - LOOKBACK_MS;
  let lastSuccessMs = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;
  const errorsTotal = new Counter({
    name: 'credentials_revocation_poll_errors_total',
    help: 'Failed reads of the API key cut-offs (revocations, shortened expiries)',
    registers: o.registry ? [o.registry] : [],
  });
  new Gauge({
    name: 'credentials_revocation_staleness_seconds',
    help: 'Seconds since the last successful read of API key revocations',
    registers: o.registry ? [o.registry] : [],
    collect() {
      this.set(lastSuccessMs === 0 ? -1 : (now() - lastSuccessMs) / 1000);
    },
  });

  const pollOnce = async (): Promise<boolean> => {
    const startedAt = now();
    try {
      const found = await o.store.cutoffsSince(since);
      let newest = since;
      for (const c of found) {
        const known = cutoffs.get(c.keyId);
        if (known === undefined || c.cutoffMs < known) cutoffs.set(c.keyId, c.cutoffMs);
        if (c.recordedMs > newest) newest = c.recordedMs;
      }
      since = Math.max(since, newest - OVERLAP_MS, startedAt - LOOKBACK_MS);
      for (const [id, cutoff] of cutoffs) if (cutoff < startedAt - LOOKBACK_MS) cutoffs.delete(id);
      lastSuccessMs = startedAt;
      return true;
    } catch (err) {
      errorsTotal.inc();
      o.logger.warn({ err: (err as Error).message }, 'reading API key revocations failed');
      return false;
    }
  };
  const poll = () => {
    running ??= pollOnce().finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    poll,
    async start() {
      await poll();
      timer = setInterval(() => void poll(), o.intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    get lastSuccessMs() {
      return lastSuccessMs;
    },
    assertUsable(keyId) {
      const t = now();
      if (t - lastSuccessMs > o.maxStalenessMs) {
        throw new ApiError(
          503,
          'auth_unavailable',
          'API key revocations are temporarily unknown',
          undefined,
          {
            'Retry-After': '5',
          },
        );
      }
      const cutoff = cutoffs.get(keyId);
      if (cutoff !== undefined && t >= cutoff) throw unauthorized('token API key revoked or expired');
    },
  };
}
