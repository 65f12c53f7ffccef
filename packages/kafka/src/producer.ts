import { type Kafka, Partitioners, type Producer } from 'kafkajs';

/**
 * The producer every component that must not lose or duplicate a message uses (ingest, the sink's
 * DLQ, the DLQ replay): idempotent, one request in flight (kafkajs keeps ordering with idempotence
 * only then), no topic auto-creation, and the Java-compatible murmur2 partitioner — named
 * explicitly, so keys land on the same partitions as with producers writing straight to Kafka.
 * Its retries are the client's (finite on purpose: a send that keeps failing fails to the caller,
 * which answers 503 or retries; why kafkajs' EoS warning about that is logged at debug:
 * log-levels.ts).
 */
export function durableProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}
