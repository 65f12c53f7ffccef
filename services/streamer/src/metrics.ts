import type { HttpMetrics } from '@audit/http';
import { Counter, Gauge, Histogram } from 'prom-client';

export interface StreamerMetrics {
  delivered: Counter<'stream_id' | 'tenant_id' | 'type'>;
  requests: Counter<'stream_id' | 'tenant_id' | 'type' | 'outcome'>;
  requestSeconds: Histogram<'type'>;
  deliverySeconds: Histogram<'type'>;
  lag: Gauge<'stream_id' | 'tenant_id'>;
  lastSuccess: Gauge<'stream_id' | 'tenant_id'>;
  failingSeconds: Gauge<'stream_id' | 'tenant_id'>;
  streams: Gauge<'state'>;
  suspensions: Counter<'stream_id' | 'tenant_id'>;
}

export function createStreamerMetrics(http: HttpMetrics): StreamerMetrics {
  const registers = [http.registry];
  return {
    delivered: new Counter({
      name: 'streamer_events_delivered_total',
      help: 'Events a destination acknowledged (a redelivery after a crash counts again)',
      labelNames: ['stream_id', 'tenant_id', 'type'] as const,
      registers,
    }),
    requests: new Counter({
      name: 'streamer_requests_total',
      help: 'Delivery attempts by outcome: ok, error (network, timeout, 5xx, 4xx), throttled (429 or Retry-After)',
      labelNames: ['stream_id', 'tenant_id', 'type', 'outcome'] as const,
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'streamer_request_seconds',
      help: 'Time of one delivery attempt, by destination type',
      labelNames: ['type'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    deliverySeconds: new Histogram({
      name: 'streamer_event_delivery_seconds',
      help: 'From an event written to Kafka to its destination acknowledging it, by destination type',
      labelNames: ['type'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    lag: new Gauge({
      name: 'streamer_lag_messages',
      help: "Messages of the stream's topics past its committed position (every tenant's, before the filter)",
      labelNames: ['stream_id', 'tenant_id'] as const,
      registers,
    }),
    lastSuccess: new Gauge({
      name: 'streamer_last_success_timestamp_seconds',
      help: 'When the destination last acknowledged a batch (unix seconds; 0 = not yet)',
      labelNames: ['stream_id', 'tenant_id'] as const,
      registers,
    }),
    failingSeconds: new Gauge({
      name: 'streamer_failing_seconds',
      help: 'How long the stream has failed without a success (0 while it delivers)',
      labelNames: ['stream_id', 'tenant_id'] as const,
      registers,
    }),
    streams: new Gauge({
      name: 'streamer_streams',
      help: 'Streams known to this instance, by state (active ones are running here)',
      labelNames: ['state'] as const,
      registers,
    }),
    suspensions: new Counter({
      name: 'streamer_suspensions_total',
      help: 'Streams suspended after failing for STREAMER_SUSPEND_AFTER_MS',
      labelNames: ['stream_id', 'tenant_id'] as const,
      registers,
    }),
  };
}
