import { type EventRow, rowToEvent } from '@audit/clickhouse';
import type { Context } from 'hono';
import { noteRead } from '../access-log.ts';
import { buildListQuery, selectsOnlyAccessRecords } from '../sql/build-query.ts';
import type { RouteDeps } from './deps.ts';
import { DEFAULT_PAGE, MAX_PAGE, parseBounded, parseFor, parseOrder } from './options.ts';

const OPTIONS = ['order', 'limit', 'cursor'] as const;

/** `GET /events`: one page of matching events, newest first unless `order=asc`. */
export function listEvents(deps: RouteDeps) {
  return async (c: Context) => {
    const tenant = c.var.principal.tenant;
    const { filters, options, canonical } = parseFor(c, OPTIONS);
    const order = parseOrder(options.get('order'));
    const limit = parseBounded('limit', options.get('limit'), DEFAULT_PAGE, MAX_PAGE);
    const scope = { tenant, filters: canonical, order };
    const cursor = options.get('cursor');
    const after = cursor === undefined ? undefined : deps.cursors.decode(scope, cursor);

    // One row more than the page tells whether a next page exists without an empty last page.
    const q = buildListQuery({ table: deps.table, tenant, filters, order, limit: limit + 1, after });
    const rows = await deps.reader.rows<EventRow>('list', q, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const next_cursor =
      rows.length > limit && last
        ? deps.cursors.encode(scope, { ts: last.timestamp, id: last.event_id })
        : null;
    noteRead(c, { rows: page.length, accessRecordsOnly: selectsOnlyAccessRecords(filters) });
    return c.json({ events: page.map(rowToEvent), next_cursor });
  };
}
