export { clickhouseAnswers, clickhouseVersion } from './clickhouse.ts';
export { type LocalStackConfig, loadLocalStackConfig } from './config.ts';
export { ensureKafkaJars } from './kafka.ts';
export {
  BROKER_PRINCIPAL,
  DEV_TENANTS,
  devTenantPassword,
  provisionTenantProducer,
  type ScramUser,
  userKafka,
} from './kafka-auth.ts';
export { freePort, type PrivateStack, startPrivateStack } from './private-stack.ts';
export { ensureRsyslog, RSYSLOGD } from './rsyslog.ts';
export { stackDown, stackReset, stackStatus, stackUp } from './stack.ts';
