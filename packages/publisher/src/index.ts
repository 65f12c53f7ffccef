export { type Coalescer, type CoalescerOptions, createCoalescer, type Submission } from './coalescer.ts';
export {
  createKafkaPublisher,
  createPublisherMetrics,
  type EventPublisher,
  type KafkaPublisherOptions,
  messageBytes,
  type OutgoingMessage,
  type PublisherMetrics,
  toMessage,
} from './publisher.ts';
