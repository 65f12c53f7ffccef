import type { EventRow } from '@audit/clickhouse';
import { invalidParameter } from '@audit/filters';
import type { Context } from 'hono';
import { noteRead } from '../access-log.ts';
import { csvHeader, rowToCsv, rowToNdjson } from '../events.ts';
import { buildExportQuery, selectsOnlyAccessRecords } from '../sql/build-query.ts';
import type { RouteDeps } from './deps.ts';
import { parseBounded, parseFor, parseOrder } from './options.ts';

const OPTIONS = ['format', 'order', 'limit'] as const;

const FORMATS = {
  ndjson: { type: 'application/x-ndjson; charset=utf-8', ext: 'ndjson', line: rowToNdjson, header: '' },
  csv: { type: 'text/csv; charset=utf-8', ext: 'csv', line: rowToCsv, header: csvHeader() },
} as const;

/**
 * `GET /events/export?format=ndjson|csv`: every matching event (up to the configured maximum),
 * streamed. Rows are pulled from ClickHouse only as fast as the client reads, so memory stays
 * flat whatever the size. An error before the first byte is a JSON error; after it, the
 * response is cut short (the status line is already sent).
 */
export function exportEvents(deps: RouteDeps) {
  return async (c: Context) => {
    const tenant = c.var.principal.tenant;
    const { filters, options } = parseFor(c, OPTIONS);
    const formatName = options.get('format') ?? 'ndjson';
    if (formatName !== 'ndjson' && formatName !== 'csv')
      throw invalidParameter('format', 'must be ndjson or csv');
    const format = FORMATS[formatName];
    const order = parseOrder(options.get('order'));
    const limit = parseBounded('limit', options.get('limit'), deps.exportMaxRows, deps.exportMaxRows);

    const q = buildExportQuery({ table: deps.table, tenant, filters, order, limit });
    noteRead(c, { accessRecordsOnly: selectsOnlyAccessRecords(filters) });
    const abort = new AbortController();
    const rows = await deps.reader.stream<EventRow>('export', q, limit, abort.signal);
    // Read the first block before answering, so a query that fails at once is a proper 503/504.
    let first: EventRow[] | undefined;
    try {
      first = await rows.next();
    } catch (err) {
      abort.abort();
      throw err;
    }
    const encoder = new TextEncoder();
    const log = c.var.log;
    let pending: EventRow[] | undefined = first;
    let headerSent = format.header === '';
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            let text = headerSent ? '' : format.header;
            headerSent = true;
            const block = pending ?? (await rows.next());
            pending = undefined;
            if (block === undefined) {
              if (text) controller.enqueue(encoder.encode(text));
              controller.close();
              return;
            }
            for (const row of block) text += format.line(row);
            controller.enqueue(encoder.encode(text));
          } catch (err) {
            log.error({ err }, 'export aborted mid-stream');
            abort.abort();
            controller.error(err);
          }
        },
        cancel() {
          // The client went away: stop the ClickHouse query too.
          rows.close();
          abort.abort();
        },
      },
      { highWaterMark: 1 },
    );
    return c.body(body, 200, {
      'Content-Type': format.type,
      'Content-Disposition': `attachment; filename="events.${format.ext}"`,
      'Cache-Control': 'no-store',
    });
  };
}
