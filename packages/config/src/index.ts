export { type BackoffOptions, backoffDelay, sleep } from './backoff.ts';
export {
  type EventRateLimitConfig,
  eventRateLimitSchema,
  type LimitSettings,
  limitSettings,
  type RateAndBurst,
  type RateLimitConfig,
  rateLimitSchema,
  type TenantLimitOverride,
} from './limits.ts';
export { ConfigError, env, loadConfig } from './load.ts';
export { type RetentionConfig, retentionSchema } from './retention.ts';
export { type StackConfig, stackSchema } from './stack.ts';
export { checkTlsPair, type TlsConfig, tlsFiles, tlsSchema } from './tls.ts';
