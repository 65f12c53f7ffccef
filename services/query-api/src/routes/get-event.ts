import { type EventRow, rowToEvent } from '@audit/clickhouse';
import { invalidParameter, UUID_RE } from '@audit/filters';
import { ApiError } from '@audit/http';
import type { Context } from 'hono';
import { noteRead } from '../access-log.ts';
import { buildGetQuery } from '../sql/build-query.ts';
import type { RouteDeps } from './deps.ts';
import { searchEntries } from './options.ts';

/** `GET /events/{event_id}`: the event, or 404 — also when it belongs to another tenant. */
export function getEvent(deps: RouteDeps) {
  return async (c: Context) => {
    const eventId = c.req.param('event_id') ?? '';
    if (!UUID_RE.test(eventId)) throw invalidParameter('event_id', 'must be a UUID');
    const [extra] = searchEntries(c);
    if (extra) throw invalidParameter(extra[0], 'unknown parameter');
    const row = await findEvent(deps, c, eventId);
    if (!row) throw new ApiError(404, 'not_found', 'no event with this id');
    noteRead(c, { rows: 1, resourceId: eventId });
    return c.json(rowToEvent(row));
  };
}

/** The event with this id the caller may see: its tenant's, within a viewer token's pins. */
export async function findEvent(deps: RouteDeps, c: Context, eventId: string): Promise<EventRow | undefined> {
  const pins = c.get('pins')?.filters;
  const q = buildGetQuery({
    table: deps.table,
    tenant: c.var.principal.tenant,
    eventId,
    ...(pins ? { pins } : {}),
  });
  const [row] = await deps.reader.rows<EventRow>('get', q, 1);
  return row;
}
