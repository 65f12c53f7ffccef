import type { HttpMetrics } from '@audit/http';
import { Counter, Gauge, Histogram } from 'prom-client';

export interface SealerMetrics {
  leavesSealed: Counter;
  dropped: Counter<'reason'>;
  checkpoints: Counter;
  sealSeconds: Histogram;
  pending: Gauge;
  lag: Gauge;
  retries: Counter<'op'>;
}

export function createSealerMetrics(http: HttpMetrics): SealerMetrics {
  const registers = [http.registry];
  return {
    leavesSealed: new Counter({
      name: 'sealer_leaves_sealed_total',
      help: 'Leaves appended to tenant logs and made durable',
      registers,
    }),
    dropped: new Counter({
      name: 'sealer_records_dropped_total',
      help: 'Leaf records not appended: redelivered (source offset already sealed), duplicate_event (same tenant and event id seen recently), invalid',
      labelNames: ['reason'] as const,
      registers,
    }),
    checkpoints: new Counter({
      name: 'sealer_checkpoints_signed_total',
      help: 'Checkpoints signed, stored and published',
      registers,
    }),
    sealSeconds: new Histogram({
      name: 'sealer_seal_seconds',
      help: 'Time of one seal: leaves, nodes and checkpoints into ClickHouse, publication, offset commit',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    pending: new Gauge({
      name: 'sealer_pending_leaves',
      help: 'Leaves appended in memory and not yet durable',
      registers,
    }),
    lag: new Gauge({
      name: 'sealer_consumer_lag',
      help: 'Leaf records in the leaves topic after the offset this instance committed',
      registers,
    }),
    retries: new Counter({
      name: 'sealer_retries_total',
      help: 'Retried operations (seal, restart)',
      labelNames: ['op'] as const,
      registers,
    }),
  };
}
