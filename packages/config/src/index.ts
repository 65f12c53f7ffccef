export { type BackoffOptions, backoffDelay, sleep } from './backoff.ts';
export { ConfigError, env, loadConfig } from './load.ts';
export { type RetentionConfig, retentionSchema } from './retention.ts';
export { type StackConfig, stackSchema } from './stack.ts';
