import type { HttpMetrics } from '@audit/http';
import { createPublisherMetrics } from '@audit/publisher';
import { Counter, Histogram } from 'prom-client';

export interface IngestMetrics {
  accepted: Counter;
  rejected: Counter<'reason'>;
  kafkaSend: Histogram<'outcome'>;
  duplicates: Counter;
  idLookup: Histogram<'outcome'>;
  idCheckSkipped: Counter<'reason'>;
}

/** The ingest API's own metrics, registered in the service registry from `createMetrics`. */
export function createIngestMetrics(http: HttpMetrics): IngestMetrics {
  const registers = [http.registry];
  return {
    accepted: new Counter({
      name: 'events_accepted_total',
      help: 'Events acknowledged by Kafka and answered with 202 (identical resends are counted in events_duplicate_total)',
      registers,
    }),
    rejected: new Counter({
      name: 'events_rejected_total',
      help: 'Events (or requests, when the body could not be read) refused, by reason (the error code)',
      labelNames: ['reason'] as const,
      registers,
    }),
    ...createPublisherMetrics(http.registry),
    duplicates: new Counter({
      name: 'events_duplicate_total',
      help: 'Events answered 202 as identical resends of an event_id already written (not published again)',
      registers,
    }),
    idLookup: new Histogram({
      name: 'ingest_id_lookup_duration_seconds',
      help: 'Lookups of client-chosen event_ids in the ClickHouse id index, by outcome (ok, timeout, error)',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    idCheckSkipped: new Counter({
      name: 'ingest_id_check_skipped_total',
      help: 'Events published without the stored-id check because ClickHouse was slow or failing (reason: timeout, error, backoff)',
      labelNames: ['reason'] as const,
      registers,
    }),
  };
}
