import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type ClickHouseClient, classifyClickHouseError } from '@audit/clickhouse';

// One retry timing for every service; re-exported for the sink's modules.
export { type BackoffOptions, backoffDelay, sleep } from '@audit/config';

export interface InsertRequest<Row> {
  table: string;
  rows: Row[];
  /** `<topic>-<partition>-<firstOffset>-<lastOffset>`: a retried range is dropped by ClickHouse. */
  token: string;
}

export type Inserter<Row> = (req: InsertRequest<Row>) => Promise<void>;

/** An insert whose rows are produced while the request body is sent (never all in memory). */
export interface StreamRequest<Row> {
  table: string;
  rows: Iterable<Row>;
  token: string;
}

export type StreamInserter<Row> = (req: StreamRequest<Row>) => Promise<void>;

/** Size of the body chunks an insert is sent in (many JSON lines per chunk, see `chunks`). */
const CHUNK_CHARS = 256 * 1024;

/**
 * Joins JSON lines into chunks of about `CHUNK_CHARS`: a stream chunk (and socket write) per row
 * cost more CPU than encoding the row (bench/sink/drain.ts --cpu-prof).
 */
export function* chunks(lines: Iterable<string>, size = CHUNK_CHARS): Generator<string, void, undefined> {
  let buf = '';
  for (const line of lines) {
    buf += line;
    if (buf.length >= size) {
      yield buf;
      buf = '';
    }
  }
  if (buf.length > 0) yield buf;
}

/**
 * One synchronous insert (async_insert=0) with the batch's deduplication token. `rows` are
 * JSONEachRow lines (each ending in a newline), pulled from the iterable as the HTTP body streams
 * out in chunks of many rows: nothing is materialised per batch (a 50,000-row array plus its JSON
 * string was ~100 MB per insert in flight), and the rows are not re-encoded by @clickhouse/client
 * (`insert` JSON-encodes every object of an object-mode stream, one stream chunk per row), hence
 * `exec` with a raw body.
 */
export function clickHouseInserter(ch: ClickHouseClient, timeoutMs: number): StreamInserter<string> {
  return async ({ table, rows, token }) => {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    const values = Readable.from(chunks(rows), { objectMode: false });
    try {
      const res = await ch.exec({
        query: `INSERT INTO ${table} FORMAT JSONEachRow`,
        values,
        abort_signal: ctl.signal,
        clickhouse_settings: {
          async_insert: 0,
          insert_deduplicate: 1,
          insert_deduplication_token: token,
          // The id index (event_ids, filled by a materialized view) must get the rows even when
          // a retried insert is dropped from events as a duplicate of a block that was written
          // while the view's part failed: with 0 a dropped block skips the views entirely.
          deduplicate_blocks_in_dependent_materialized_views: 1,
          date_time_input_format: 'best_effort',
        },
      });
      // The response body of an insert is empty; read it so the socket goes back to the pool.
      res.stream.resume();
      await finished(res.stream);
    } finally {
      clearTimeout(timer);
      // A failed request may leave the body unread: stop the generator behind it.
      values.destroy();
    }
  };
}

export interface SplitOutcome<Row> {
  inserted: number;
  rejected: Array<{ row: Row; error: string }>;
}

/**
 * Inserts `rows` and, when ClickHouse rejects the data, bisects until the rejected rows are
 * isolated. Each sub-range keeps a deterministic token (`<base>-s<start>-<end>` over the batch
 * indexes) so a retry after a crash during the split rebuilds the same inserts.
 * Retryable errors are thrown to the caller, which backs off and calls again.
 */
export async function insertSplitting<Row>(
  insert: Inserter<Row>,
  req: InsertRequest<Row>,
  onSplit?: () => void,
): Promise<SplitOutcome<Row>> {
  const out: SplitOutcome<Row> = { inserted: 0, rejected: [] };
  const run = async (start: number, end: number, token: string): Promise<void> => {
    const rows = req.rows.slice(start, end);
    if (rows.length === 0) return;
    try {
      await insert({ table: req.table, rows, token });
      out.inserted += rows.length;
    } catch (err) {
      if (classifyClickHouseError(err) !== 'data') throw err;
      if (rows.length === 1) {
        out.rejected.push({ row: rows[0]!, error: String((err as Error).message ?? err).slice(0, 2048) });
        return;
      }
      onSplit?.();
      const mid = start + Math.ceil((end - start) / 2);
      await run(start, mid, `${req.token}-s${start}-${mid}`);
      await run(mid, end, `${req.token}-s${mid}-${end}`);
    }
  };
  await run(0, req.rows.length, req.token);
  return out;
}
