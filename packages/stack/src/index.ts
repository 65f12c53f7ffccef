export { clickhouseAnswers, clickhouseVersion } from './clickhouse.ts';
export { type LocalStackConfig, loadLocalStackConfig } from './config.ts';
export { freePort, type PrivateStack, startPrivateStack } from './private-stack.ts';
export { stackDown, stackReset, stackStatus, stackUp } from './stack.ts';
