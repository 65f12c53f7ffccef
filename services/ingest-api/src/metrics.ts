import type { HttpMetrics } from '@audit/http';
import { Counter, Histogram } from 'prom-client';

export interface IngestMetrics {
  accepted: Counter;
  rejected: Counter<'reason'>;
  kafkaSend: Histogram<'outcome'>;
}

/** The ingest API's own metrics, registered in the service registry from `createMetrics`. */
export function createIngestMetrics(http: HttpMetrics): IngestMetrics {
  const registers = [http.registry];
  return {
    accepted: new Counter({
      name: 'events_accepted_total',
      help: 'Events acknowledged by Kafka and answered with 202',
      registers,
    }),
    rejected: new Counter({
      name: 'events_rejected_total',
      help: 'Events (or requests, when the body could not be read) refused, by reason (the error code)',
      labelNames: ['reason'] as const,
      registers,
    }),
    kafkaSend: new Histogram({
      name: 'kafka_send_duration_seconds',
      help: 'Time from handing a request to the producer until Kafka acknowledged it (or it failed)',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}
