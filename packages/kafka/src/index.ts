export {
  type Admin,
  CompressionTypes,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type Kafka,
  type KafkaMessage,
  type Message,
  type Producer,
  type RecordMetadata,
} from 'kafkajs';
export { createKafka, type KafkaClientOptions, type KafkaLogSink } from './client.ts';
