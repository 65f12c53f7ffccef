import type { HttpMetrics } from '@audit/http';
import { Counter, Gauge, Histogram } from 'prom-client';

export interface SinkMetrics {
  lag: Gauge<'topic' | 'partition'>;
  batchRows: Histogram;
  batchBytes: Histogram;
  insertSeconds: Histogram;
  rowsInserted: Counter;
  dlq: Counter<'reason'>;
  duplicates: Counter<'of'>;
  retries: Counter<'op'>;
  commits: Counter<'outcome'>;
  bufferedBytes: Gauge;
  pausedPartitions: Gauge;
}

/** Sink metrics on the service's registry (from @audit/http's createMetrics). */
export function createSinkMetrics(http: HttpMetrics): SinkMetrics {
  const registers = [http.registry];
  return {
    lag: new Gauge({
      name: 'sink_consumer_lag',
      help: 'High watermark minus the offset committed by this instance, per assigned partition',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    batchRows: new Histogram({
      name: 'sink_batch_rows',
      help: 'Messages per batch (one partition, one contiguous offset range)',
      buckets: [1, 10, 100, 1000, 5000, 10_000, 25_000, 50_000, 100_000],
      registers,
    }),
    batchBytes: new Histogram({
      name: 'sink_batch_bytes',
      help: 'Kafka value bytes per batch',
      buckets: [1e3, 1e4, 1e5, 1e6, 4e6, 8e6, 16e6, 32e6, 64e6],
      registers,
    }),
    insertSeconds: new Histogram({
      name: 'sink_insert_duration_seconds',
      help: 'Latency of one successful ClickHouse insert',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    rowsInserted: new Counter({
      name: 'sink_rows_inserted_total',
      help: 'Rows acknowledged by ClickHouse (rate() gives rows/s)',
      registers,
    }),
    dlq: new Counter({
      name: 'sink_dlq_messages_total',
      help: 'Messages written to the dead-letter topic, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    duplicates: new Counter({
      name: 'sink_duplicates_total',
      help: 'Messages not inserted because their event_id is stored with the same content, by what they duplicate (batch, stored, redelivery)',
      labelNames: ['of'] as const,
      registers,
    }),
    retries: new Counter({
      name: 'sink_retries_total',
      help: 'Retried operations after a retryable failure (lookup, insert, stored, dlq) or a data error split',
      labelNames: ['op'] as const,
      registers,
    }),
    commits: new Counter({
      name: 'sink_commits_total',
      help: 'Offset commits after an insert, by outcome (ok, skipped_revoked, failed)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    bufferedBytes: new Gauge({
      name: 'sink_buffered_bytes',
      help: 'Kafka value bytes held in batches not yet committed',
      registers,
    }),
    pausedPartitions: new Gauge({
      name: 'sink_paused_partitions',
      help: 'Partitions whose fetching is paused while their batch is written',
      registers,
    }),
  };
}
