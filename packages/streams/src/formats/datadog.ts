import type { AuditEvent } from '@audit/schema';
import type { PublicDestination } from '../destinations.ts';
import type { WireRequest } from './wire.ts';

type Datadog = Extract<PublicDestination, { type: 'datadog' }>;

/** Datadog's intake takes at most this many entries per request. */
export const DATADOG_MAX_ENTRIES = 1000;

/** Tag values: Datadog lowercases and replaces what it does not allow; keep the common ones readable. */
const tag = (v: string) => v.replace(/[^A-Za-z0-9_.:/-]/g, '_');

/**
 * Datadog logs intake v2 (`POST /api/v2/logs`): a JSON array of log entries, the event as the
 * JSON text of `message` (Datadog parses JSON messages into attributes), tenant, type and stream
 * as tags.
 */
export function datadogRequest(
  events: AuditEvent[],
  d: Datadog,
  apiKey: string,
  ctx: { streamId: string; hostname: string },
): WireRequest {
  const extra = d.tags ? `,${d.tags}` : '';
  const entries = events.map((e) => ({
    ddsource: 'audit-log',
    service: d.service,
    hostname: ctx.hostname,
    ddtags: `tenant_id:${tag(e.tenant_id)},event_type:${tag(e.event_type)},stream_id:${ctx.streamId}${extra}`,
    message: JSON.stringify(e),
  }));
  return {
    body: JSON.stringify(entries),
    headers: { 'content-type': 'application/json', 'dd-api-key': apiKey },
  };
}
