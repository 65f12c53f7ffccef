export {
  type Admin,
  CompressionTypes,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type ISocketFactory,
  type Kafka,
  type KafkaMessage,
  type Message,
  Partitioners,
  type Producer,
  type RecordMetadata,
} from 'kafkajs';
export {
  type AclTopics,
  applyAcls,
  describeAcl,
  removeAcls,
  SERVICE_PRINCIPALS,
  serviceAcls,
  TENANT_TOPIC_ID,
  tenantAcls,
  tenantPrincipal,
  tenantTopic,
  topicTenant,
} from './acls.ts';
export {
  adminKafkaAuth,
  type KafkaAuth,
  type KafkaAuthConfig,
  type KafkaBrokerConfig,
  kafkaAuth,
  kafkaAuthSchema,
  saslOptions,
  serviceKafka,
  stackKafka,
} from './auth.ts';
export { createKafka, type KafkaClientOptions, type KafkaLogSink } from './client.ts';
export {
  consumerCrashLevel,
  isTransientBrokerError,
  kafkaLogLevel,
  TRANSIENT_BROKER_ERRORS,
} from './log-levels.ts';
export { durableProducer } from './producer.ts';
export { aclTopicsOf, pipelineTopicSpecs, provisionPipeline, provisionTenantTopic } from './provision.ts';
export { type RestartOptions, restartConsumer } from './restart.ts';
export { createTopicsReady, type TopicSpec } from './topics.ts';
