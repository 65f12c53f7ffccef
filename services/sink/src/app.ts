import { createBaseApp, type HttpMetrics, type Logger } from '@audit/http';
import type { Hono } from 'hono';

export interface AppDeps {
  logger: Logger;
  metrics: HttpMetrics;
  ready: () => Promise<string[]>;
}

/** The sink serves only health and metrics: /healthz, /readyz, /metrics. */
export function createApp(deps: AppDeps): Hono {
  return createBaseApp(deps);
}
