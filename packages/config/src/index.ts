export { ConfigError, env, loadConfig } from './load.ts';
export { type StackConfig, stackSchema } from './stack.ts';
