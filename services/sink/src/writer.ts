import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ClickHouseClient } from '@audit/clickhouse';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** Capped exponential backoff with full jitter in the upper half: attempt 1 waits ~initialMs. */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random) {
  const exp = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/**
 * `data`: ClickHouse refused the rows themselves (parse/type/constraint errors) — retrying the same
 * rows can never succeed, so the batch is split and the offending rows go to the DLQ.
 * `retryable`: everything else — network, timeouts, 5xx, TOO_MANY_PARTS, memory limits, and also
 * auth or missing-table errors, which an operator fixes without losing data.
 */
export type ErrorClass = 'data' | 'retryable';

// Error codes/names of ClickHouse that are about the inserted data.
const DATA_ERROR_TYPES = new Set([
  'CANNOT_PARSE_TEXT',
  'CANNOT_PARSE_ESCAPE_SEQUENCE',
  'CANNOT_PARSE_QUOTED_STRING',
  'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
  'CANNOT_PARSE_DATE',
  'CANNOT_PARSE_DATETIME',
  'CANNOT_PARSE_NUMBER',
  'CANNOT_PARSE_UUID',
  'CANNOT_PARSE_BOOL',
  'CANNOT_READ_ALL_DATA',
  'INCORRECT_DATA',
  'TYPE_MISMATCH',
  'TOO_LARGE_STRING_SIZE',
  'VIOLATED_CONSTRAINT',
  'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  'DECIMAL_OVERFLOW',
  'ARGUMENT_OUT_OF_BOUND',
  'INCORRECT_NUMBER_OF_COLUMNS',
  'ILLEGAL_TYPE_OF_ARGUMENT',
  'CANNOT_CONVERT_TYPE',
]);
const DATA_ERROR_CODES = new Set([
  '6',
  '26',
  '27',
  '32',
  '33',
  '38',
  '41',
  '53',
  '69',
  '70',
  '72',
  '117',
  '131',
  '321',
  '376',
  '407',
  '469',
  '467',
]);

export function classifyError(err: unknown): ErrorClass {
  const e = err as { code?: unknown; type?: unknown };
  // Errors from the server carry a numeric code (string) and its name; transport errors don't.
  if (typeof e?.type === 'string' && DATA_ERROR_TYPES.has(e.type)) return 'data';
  if (typeof e?.code === 'string' && /^\d+$/.test(e.code) && DATA_ERROR_CODES.has(e.code)) return 'data';
  return 'retryable';
}

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
      if (classifyError(err) !== 'data') throw err;
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

/** Sleeps `ms`, waking early (returning false) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
