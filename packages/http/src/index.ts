export { apiReference } from './api-reference.ts';
export { type BaseAppDeps, type BaseVariables, createBaseApp } from './base-app.ts';
export { clientIp } from './client-ip.ts';
export { ApiError, type ErrorBody, errorResponse } from './errors.ts';
export { jsonBody } from './json-body.ts';
export { createLogger, type Logger } from './logger.ts';
export { createMetrics, type HttpMetrics } from './metrics.ts';
export { ERROR_SCHEMA, errorResponseDoc, operationalPathsDoc } from './openapi.ts';
export {
  type BucketLimit,
  type BucketState,
  createRateLimiter,
  createTenantLimits,
  type RateLimiter,
  type RateLimiterOptions,
  type RefusalCounter,
  rateLimit,
  rateLimitRefusals,
  retryAfterSeconds,
  type TenantLimits,
  TokenBuckets,
} from './rate-limit.ts';
export { onShutdown, type RunningServer, startServer, type TlsFiles } from './server.ts';
export { type StaticFilesOptions, staticFiles } from './static-files.ts';
