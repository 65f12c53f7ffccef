import type { Auth } from '@audit/auth';
import { ApiError } from '@audit/http';
import { normalizeEvent } from '@audit/schema';
import type { Hono } from 'hono';
import { type BodyLimits, bodyFormat, decodeUtf8, parseBody, readBodyCapped } from './body.ts';
import type { IngestMetrics } from './metrics.ts';
import type { EventPublisher } from './publisher.ts';
import { checkTenant, validateItems } from './validate.ts';

export interface EventsRouteDeps {
  auth: Auth;
  publisher: EventPublisher;
  metrics: IngestMetrics;
  limits: BodyLimits;
  now?: () => Date;
}

/**
 * POST /events: read (bounded), parse, validate everything, stamp tenant/source/ids, publish,
 * and answer 202 only after Kafka acknowledged every event. Any failure writes nothing.
 */
export function addEventsRoute(app: Hono, deps: EventsRouteDeps): void {
  const now = deps.now ?? (() => new Date());
  app.post('/events', deps.auth.require('events:write'), async (c) => {
    const principal = c.get('principal');
    // How many events a failure rejects: the request itself until its events are known.
    let count = 1;
    try {
      const format = bodyFormat(c.req.header('content-type'));
      const bytes = await readBodyCapped(
        c.req.raw.body,
        c.req.header('content-length'),
        deps.limits[format].maxBytes,
      );
      const items = parseBody(decodeUtf8(bytes), format, deps.limits);
      count = items.length;
      const inputs = validateItems(items);
      checkTenant(inputs, principal.tenant);
      const receivedAt = now();
      const events = inputs.map((input) =>
        normalizeEvent(input, {
          tenantId: principal.tenant,
          source: input.source ?? principal.subject,
          receivedAt,
        }),
      );
      await deps.publisher.publish(events);
      deps.metrics.accepted.inc(events.length);
      c.get('log').debug({ accepted: events.length, tenant: principal.tenant }, 'events accepted');
      return c.json({ accepted: events.length, event_ids: events.map((e) => e.event_id) }, 202);
    } catch (err) {
      deps.metrics.rejected.labels(err instanceof ApiError ? err.code : 'internal').inc(count);
      throw err;
    }
  });
}
