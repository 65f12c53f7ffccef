import { type ClickHouseClient, classifyClickHouseError } from '@audit/clickhouse';
import { ApiError, type Logger } from '@audit/http';
import { Histogram, type Registry } from 'prom-client';
import type { BuiltQuery } from './sql/build-query.ts';

export type Endpoint = 'list' | 'get' | 'stats' | 'export' | 'ready' | 'integrity';

export interface ReaderOptions {
  client: ClickHouseClient;
  /** `database.events`: readiness checks that it exists. */
  table: string;
  registry: Registry;
  /** `max_execution_time` of ordinary queries, seconds. */
  timeoutSeconds: number;
  /** `max_execution_time` of exports, seconds. */
  exportTimeoutSeconds: number;
}

/** Rows of a streamed query, in the order ClickHouse sends them; `close()` stops the query. */
export interface RowStream<T> {
  next(): Promise<T[] | undefined>;
  close(): void;
}

export interface Reader {
  rows<T>(endpoint: Endpoint, q: BuiltQuery, maxRows: number): Promise<T[]>;
  stream<T>(endpoint: Endpoint, q: BuiltQuery, maxRows: number, signal: AbortSignal): Promise<RowStream<T>>;
  ping(): Promise<string[]>;
}

/**
 * Turns whatever the client threw into the API's answer without passing ClickHouse's text on
 * (it can quote SQL, parameters and server internals): 504 when the query ran out of time,
 * 503 when the server is unreachable or refuses work, 500 when our own SQL (or a parameter it
 * bound) was at fault. What kind of error it is, is @audit/clickhouse's call.
 */
export function classifyError(err: unknown): ApiError {
  switch (classifyClickHouseError(err)) {
    case 'timeout':
      return new ApiError(504, 'timeout', 'the query took too long; narrow the time range or filters');
    case 'query':
    case 'data':
      return new ApiError(500, 'internal', 'internal error');
    case 'unavailable':
      return new ApiError(503, 'unavailable', 'the event store is unavailable; retry later', undefined, {
        'Retry-After': '5',
      });
  }
}

/**
 * The query API's only door to ClickHouse (as the read-only user): every query carries its
 * time and result limits, is timed per endpoint, and fails as an `ApiError`.
 */
export function createReader(opts: ReaderOptions, logger: Logger): Reader {
  const duration = new Histogram({
    name: 'clickhouse_query_duration_seconds',
    help: 'ClickHouse query time by API endpoint and outcome (for exports: until the last row)',
    labelNames: ['endpoint', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [opts.registry],
  });

  const settings = (endpoint: Endpoint, maxRows: number) => {
    const seconds = endpoint === 'export' ? opts.exportTimeoutSeconds : opts.timeoutSeconds;
    return {
      seconds,
      clickhouse_settings: {
        max_execution_time: seconds,
        timeout_overflow_mode: 'throw' as const,
        // Clock time, not a projection: a query is stopped at the limit, not guessed at after 10 s.
        timeout_before_checking_execution_speed: 0,
        max_result_rows: String(maxRows),
        result_overflow_mode: 'throw' as const,
      },
    };
  };

  const fail = (endpoint: Endpoint, q: BuiltQuery, err: unknown, t0: number): ApiError => {
    const apiErr = classifyError(err);
    duration.labels(endpoint, apiErr.code).observe((performance.now() - t0) / 1000);
    logger.error({ err, endpoint, sql: q.sql, status: apiErr.status }, 'clickhouse query failed');
    return apiErr;
  };

  return {
    async rows<T>(endpoint: Endpoint, q: BuiltQuery, maxRows: number): Promise<T[]> {
      const t0 = performance.now();
      const s = settings(endpoint, maxRows);
      try {
        const rs = await opts.client.query({
          query: q.sql,
          query_params: q.params,
          format: 'JSONEachRow',
          clickhouse_settings: s.clickhouse_settings,
          // The server stops the query at max_execution_time; this catches a server that never answers.
          abort_signal: AbortSignal.timeout((s.seconds + 2) * 1000),
        });
        const rows = await rs.json<T>();
        duration.labels(endpoint, 'ok').observe((performance.now() - t0) / 1000);
        return rows;
      } catch (err) {
        throw fail(endpoint, q, err, t0);
      }
    },

    async stream<T>(endpoint: Endpoint, q: BuiltQuery, maxRows: number, signal: AbortSignal) {
      const t0 = performance.now();
      const s = settings(endpoint, maxRows);
      let iterator: AsyncIterator<{ json<R>(): R }[]>;
      let close: () => void;
      try {
        const rs = await opts.client.query({
          query: q.sql,
          query_params: q.params,
          format: 'JSONEachRow',
          clickhouse_settings: s.clickhouse_settings,
          abort_signal: AbortSignal.any([signal, AbortSignal.timeout((s.seconds + 2) * 1000)]),
        });
        const stream = rs.stream();
        iterator = stream[Symbol.asyncIterator]() as AsyncIterator<{ json<R>(): R }[]>;
        close = () => rs.close();
      } catch (err) {
        throw fail(endpoint, q, err, t0);
      }
      let done = false;
      const finish = (outcome: string) => {
        if (done) return;
        done = true;
        duration.labels(endpoint, outcome).observe((performance.now() - t0) / 1000);
      };
      return {
        async next() {
          try {
            const r = await iterator.next();
            if (r.done) {
              finish('ok');
              return undefined;
            }
            return r.value.map((row) => row.json<T>());
          } catch (err) {
            if (done) return undefined;
            const apiErr = classifyError(err);
            finish(apiErr.code);
            logger.error({ err, endpoint, sql: q.sql }, 'clickhouse stream failed');
            throw apiErr;
          }
        },
        close() {
          finish('cancelled');
          close();
        },
      };
    },

    async ping() {
      try {
        const r = await opts.client.ping();
        if (!r.success) return ['clickhouse: unavailable'];
        const rs = await opts.client.query({
          query: `EXISTS TABLE ${opts.table}`,
          format: 'JSONEachRow',
          abort_signal: AbortSignal.timeout(5000),
        });
        const [row] = await rs.json<{ result: number }>();
        return row?.result === 1 ? [] : [`clickhouse: table ${opts.table} does not exist yet`];
      } catch (err) {
        logger.warn({ err }, 'clickhouse not ready');
        return ['clickhouse: unavailable'];
      }
    },
  };
}
