import { type ClickHouseClient, fromClickHouseTime, toClickHouseTime } from '@audit/clickhouse';
import type { BatchSettings, PublicDestination } from './destinations.ts';

/**
 * Streams live beside the credentials in the control database, never in the trail's. A stream is
 * a series of versions (append-only: every change is a new row, the highest version is the
 * state); each streamer instance reports its counters into `stream_status`; a test delivery is a
 * request row the streamer answers with a result row (`stream_tests`).
 */
export function streamsDdl(db: string): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    `CREATE TABLE IF NOT EXISTS ${db}.stream_versions (
      stream_id String,
      tenant_id String,
      version UInt64,
      name String,
      filter String,
      destination String,
      secrets String,
      batch String,
      state LowCardinality(String),
      state_reason String,
      created_at DateTime64(3, 'UTC'),
      actor String,
      at DateTime64(3, 'UTC'),
      recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree ORDER BY (tenant_id, stream_id, version)`,
    `CREATE TABLE IF NOT EXISTS ${db}.stream_status (
      stream_id String,
      tenant_id String,
      instance String,
      at DateTime64(3, 'UTC'),
      delivered UInt64,
      failed UInt64,
      requests UInt64,
      lag Int64,
      last_success_at Nullable(DateTime64(3, 'UTC')),
      last_error String,
      last_error_at Nullable(DateTime64(3, 'UTC')),
      failing_since Nullable(DateTime64(3, 'UTC'))
    ) ENGINE = ReplacingMergeTree(at) ORDER BY (tenant_id, stream_id, instance)`,
    `CREATE TABLE IF NOT EXISTS ${db}.stream_tests (
      test_id String,
      stream_id String,
      tenant_id String,
      requested_at DateTime64(3, 'UTC'),
      done UInt8,
      ok UInt8,
      status UInt16,
      error String,
      latency_ms UInt32,
      at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree(at) ORDER BY (tenant_id, stream_id, test_id)`,
  ];
}

export const STREAM_STATES = ['active', 'paused', 'suspended', 'deleted'] as const;
export type StreamState = (typeof STREAM_STATES)[number];

export interface StreamRecord {
  stream_id: string;
  tenant_id: string;
  version: number;
  name: string;
  /** Canonical filter query string (`@audit/filters` parseStreamFilter); '' = everything. */
  filter: string;
  destination: PublicDestination;
  /** Sealed DestinationSecrets (secrets.ts). */
  secrets: string;
  batch: BatchSettings;
  state: StreamState;
  /** Why the state is what it is (a suspension's last error), '' otherwise. */
  state_reason: string;
  created_at: string;
  actor: string;
  at: string;
}

/** Status of one stream summed over the streamer instances that ran it. */
export interface StreamStatus {
  delivered: number;
  failed: number;
  requests: number;
  lag: number;
  last_success_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  failing_since: string | null;
  reported_at: string | null;
}

export interface StatusRow {
  stream_id: string;
  tenant_id: string;
  instance: string;
  at: string;
  delivered: number;
  failed: number;
  requests: number;
  lag: number;
  last_success_at: string | null;
  last_error: string;
  last_error_at: string | null;
  failing_since: string | null;
}

export interface TestResult {
  test_id: string;
  stream_id: string;
  tenant_id: string;
  done: boolean;
  ok: boolean;
  status: number;
  error: string;
  latency_ms: number;
  requested_at: string;
}

interface VersionRow extends Omit<StreamRecord, 'destination' | 'batch' | 'version'> {
  destination: string;
  batch: string;
  version: string;
}

const ch = (iso: string) => toClickHouseTime(iso);
const chOrNull = (iso: string | null) => (iso === null ? null : toClickHouseTime(iso));
const iso = (t: string | null) => (t === null ? null : fromClickHouseTime(t));

function fromVersionRow(r: VersionRow): StreamRecord {
  return {
    ...r,
    version: Number(r.version),
    destination: JSON.parse(r.destination) as PublicDestination,
    batch: JSON.parse(r.batch) as BatchSettings,
    created_at: fromClickHouseTime(r.created_at),
    at: fromClickHouseTime(r.at),
  };
}

/** The next version after `previous`: time-based (µs) so that versions order like the changes. */
export function nextVersion(previous: number | undefined, nowMs: number): number {
  return Math.max((previous ?? 0) + 1, nowMs * 1000);
}

const VERSION_COLUMNS =
  'stream_id, tenant_id, version, name, filter, destination, secrets, batch, state, state_reason, created_at, actor, at';

export class StreamStore {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly db: string,
  ) {}

  async ensureSchema(): Promise<void> {
    for (const query of streamsDdl(this.db)) await this.client.command({ query });
  }

  private async rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const rs = await this.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return (await rs.json()) as T[];
  }

  async append(r: StreamRecord): Promise<void> {
    await this.client.insert({
      table: `${this.db}.stream_versions`,
      format: 'JSONEachRow',
      values: [
        {
          ...r,
          destination: JSON.stringify(r.destination),
          batch: JSON.stringify(r.batch),
          created_at: ch(r.created_at),
          at: ch(r.at),
        },
      ],
    });
  }

  /** The latest version of one stream (deleted ones included), or undefined. */
  async get(tenant: string, streamId: string): Promise<StreamRecord | undefined> {
    const rows = await this.rows<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM ${this.db}.stream_versions
       WHERE tenant_id = {tenant:String} AND stream_id = {id:String}
       ORDER BY version DESC LIMIT 1`,
      { tenant, id: streamId },
    );
    return rows[0] ? fromVersionRow(rows[0]) : undefined;
  }

  /** The latest version of every stream of a tenant, or of every tenant; deleted ones left out. */
  async list(tenant?: string): Promise<StreamRecord[]> {
    const where = tenant === undefined ? '' : 'WHERE tenant_id = {tenant:String}';
    const rows = await this.rows<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM ${this.db}.stream_versions ${where}
       ORDER BY tenant_id, stream_id, version DESC LIMIT 1 BY tenant_id, stream_id`,
      tenant === undefined ? {} : { tenant },
    );
    return rows.map(fromVersionRow).filter((r) => r.state !== 'deleted');
  }

  async writeStatus(rows: StatusRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({
      table: `${this.db}.stream_status`,
      format: 'JSONEachRow',
      values: rows.map((r) => ({
        ...r,
        at: ch(r.at),
        last_success_at: chOrNull(r.last_success_at),
        last_error_at: chOrNull(r.last_error_at),
        failing_since: chOrNull(r.failing_since),
      })),
    });
  }

  /**
   * Each instance's latest row, summed: counters are per instance since it started, so the sum
   * over all instances ever is the stream's total; lag and failing_since come from the instances
   * that reported within `liveMs` (a dead instance's last word is no longer current).
   */
  async status(
    tenant: string,
    streamIds: string[],
    nowMs: number,
    liveMs: number,
  ): Promise<Map<string, StreamStatus>> {
    const out = new Map<string, StreamStatus>();
    if (streamIds.length === 0) return out;
    const rows = await this.rows<StatusRow>(
      `SELECT stream_id, tenant_id, instance, at, delivered, failed, requests, lag, last_success_at,
              last_error, last_error_at, failing_since
       FROM ${this.db}.stream_status FINAL
       WHERE tenant_id = {tenant:String} AND stream_id IN {ids:Array(String)}`,
      { tenant, ids: streamIds },
    );
    const later = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);
    const earlier = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a < b ? a : b);
    for (const r of rows) {
      const s = out.get(r.stream_id) ?? {
        delivered: 0,
        failed: 0,
        requests: 0,
        lag: 0,
        last_success_at: null,
        last_error: null,
        last_error_at: null,
        failing_since: null,
        reported_at: null,
      };
      const at = fromClickHouseTime(r.at);
      const live = nowMs - Date.parse(at) <= liveMs;
      s.delivered += Number(r.delivered);
      s.failed += Number(r.failed);
      s.requests += Number(r.requests);
      s.last_success_at = later(s.last_success_at, iso(r.last_success_at));
      const errorAt = iso(r.last_error_at);
      if (errorAt !== null && (s.last_error_at === null || errorAt > s.last_error_at)) {
        s.last_error_at = errorAt;
        s.last_error = r.last_error;
      }
      if (live) {
        s.lag += Number(r.lag);
        s.failing_since = earlier(s.failing_since, iso(r.failing_since));
      }
      s.reported_at = later(s.reported_at, at);
      out.set(r.stream_id, s);
    }
    return out;
  }

  async requestTest(t: { test_id: string; stream_id: string; tenant_id: string; at: string }): Promise<void> {
    await this.writeTest({
      ...t,
      done: false,
      ok: false,
      status: 0,
      error: '',
      latency_ms: 0,
      requested_at: t.at,
    });
  }

  async finishTest(r: TestResult): Promise<void> {
    await this.writeTest({ ...r, done: true });
  }

  private async writeTest(r: TestResult): Promise<void> {
    await this.client.insert({
      table: `${this.db}.stream_tests`,
      format: 'JSONEachRow',
      values: [
        {
          ...r,
          done: r.done ? 1 : 0,
          ok: r.ok ? 1 : 0,
          requested_at: ch(r.requested_at),
          at: toClickHouseTime(Date.now()),
        },
      ],
    });
  }

  async getTest(tenant: string, streamId: string, testId: string): Promise<TestResult | undefined> {
    const rows = await this.rows<TestRow>(
      `SELECT test_id, stream_id, tenant_id, done, ok, status, error, latency_ms, requested_at
       FROM ${this.db}.stream_tests FINAL
       WHERE tenant_id = {tenant:String} AND stream_id = {id:String} AND test_id = {test:String}`,
      { tenant, id: streamId, test: testId },
    );
    return rows[0] ? fromTestRow(rows[0]) : undefined;
  }

  /** Test requests not answered yet, made at or after `sinceMs`. */
  async pendingTests(sinceMs: number): Promise<TestResult[]> {
    const rows = await this.rows<TestRow>(
      `SELECT test_id, stream_id, tenant_id, done, ok, status, error, latency_ms, requested_at
       FROM ${this.db}.stream_tests FINAL
       WHERE done = 0 AND requested_at >= {since:DateTime64(3, 'UTC')}`,
      { since: toClickHouseTime(sinceMs) },
    );
    return rows.map(fromTestRow);
  }
}

interface TestRow extends Omit<TestResult, 'done' | 'ok'> {
  done: number;
  ok: number;
}

function fromTestRow(r: TestRow): TestResult {
  return { ...r, done: r.done === 1, ok: r.ok === 1, requested_at: fromClickHouseTime(r.requested_at) };
}
