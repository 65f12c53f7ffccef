import { type Kafka, Partitioners, type Producer } from 'kafkajs';

/**
 * The producer every component that must not lose or duplicate a message uses (ingest, the sink's
 * DLQ, the DLQ replay): idempotent, one request in flight (kafkajs keeps ordering with idempotence
 * only then), no topic auto-creation, and the Java-compatible murmur2 partitioner — named
 * explicitly, so keys land on the same partitions as with producers writing straight to Kafka.
 */
export function durableProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}
