import type { AuditEvent } from '@audit/schema';
import type { PublicDestination } from '../destinations.ts';
import type { WireRequest } from './wire.ts';

type Splunk = Extract<PublicDestination, { type: 'splunk' }>;

/**
 * Splunk HTTP Event Collector, `/services/collector/event`: one JSON object per event,
 * concatenated (not an array), `time` in epoch seconds from the event's own timestamp, the event
 * itself as `event` and its tenant and type as indexed `fields` for fast searches.
 */
export function splunkRequest(events: AuditEvent[], d: Splunk, token: string, host: string): WireRequest {
  const lines = events.map((e) =>
    JSON.stringify({
      time: Date.parse(e.timestamp) / 1000,
      host,
      source: d.source ?? 'audit-log',
      sourcetype: d.sourcetype ?? '_json',
      ...(d.index !== undefined ? { index: d.index } : {}),
      fields: { tenant_id: e.tenant_id, event_type: e.event_type },
      event: e,
    }),
  );
  return {
    body: lines.join('\n'),
    headers: { 'content-type': 'application/json', authorization: `Splunk ${token}` },
  };
}
