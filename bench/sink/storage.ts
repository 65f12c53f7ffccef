/**
 * Storage benchmark for `event_details` (a script, not a test):
 *   node --import tsx bench/sink/storage.ts [--events 1000000] [--runs 10]
 * The same N generated events (nested details: plan, amount, customer.{country,segment,seats},
 * request.{method,path,duration_ms}, tags[]) go into two scratch tables of a scratch database
 * created with the admin user and dropped at the end:
 *   map:  the production layout — details Map(LowCardinality(String), String) (flattened leaves,
 *         bloom-filter indexes on keys and values) + event_details String CODEC(ZSTD(3)) (raw JSON)
 *   json: event_details JSON (ClickHouse's native JSON type; paths become dynamic subcolumns)
 * Measures insert rows/s (50k-row JSONEachRow inserts, timed on the inserts), bytes on disk per
 * event (system.parts, after OPTIMIZE FINAL), p50/p99 of a nested-field equality filter, a numeric
 * range filter and a read of 1,000 whole event_details objects. Prints a table and writes
 * bench/results/storage-<timestamp>.json.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toRow } from '@audit/clickhouse';
import { normalizeEvent } from '@audit/schema';
import { admin } from '../../services/sink/test/helpers.ts';
import { inputEvent } from '../lib/events.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('events', 1_000_000);
const RUNS = arg('runs', 10);
const CHUNK = 50_000;
const db = `bench_storage_${randomBytes(4).toString('hex')}`;
const tenant = 't_storage';

const common = `
  tenant_id LowCardinality(String),
  event_id UUID,
  event_type LowCardinality(String),
  timestamp DateTime64(3, 'UTC'),
  received_at DateTime64(3, 'UTC'),
  user_id String,
  source LowCardinality(String),
  actor_type LowCardinality(String) DEFAULT '',
  resource_type LowCardinality(String) DEFAULT '',
  resource_id String DEFAULT '',
  action LowCardinality(String) DEFAULT '',
  outcome LowCardinality(String) DEFAULT '',
  ip String DEFAULT '',
  user_agent String DEFAULT '',
  schema_version UInt16 DEFAULT 1,`;
const engine = `ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (tenant_id, timestamp, event_id)`;

const tables = {
  map: `CREATE TABLE ${db}.ev_map (${common}
  details Map(LowCardinality(String), String),
  event_details String CODEC(ZSTD(3)),
  INDEX idx_details_keys mapKeys(details) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_details_values mapValues(details) TYPE bloom_filter(0.01) GRANULARITY 1
) ${engine}`,
  json: `CREATE TABLE ${db}.ev_json (${common}
  event_details JSON
) ${engine}`,
};

/** The same logical filters on both layouts. */
const queries: Record<string, { map: string; json: string }> = {
  'filter: customer.country = X and plan = Y (count)': {
    map: `SELECT count() FROM ${db}.ev_map WHERE tenant_id = '${tenant}' AND details['customer.country'] = 'AT' AND details['plan'] = 'enterprise'`,
    json: `SELECT count() FROM ${db}.ev_json WHERE tenant_id = '${tenant}' AND event_details.customer.country::String = 'AT' AND event_details.plan::String = 'enterprise'`,
  },
  'filter: amount > 99000 (count)': {
    map: `SELECT count() FROM ${db}.ev_map WHERE tenant_id = '${tenant}' AND toFloat64OrNull(details['amount']) > 99000`,
    json: `SELECT count() FROM ${db}.ev_json WHERE tenant_id = '${tenant}' AND event_details.amount::Float64 > 99000`,
  },
  'filter: request.path = one value (100 rows, whole objects)': {
    map: `SELECT event_id, event_details FROM ${db}.ev_map WHERE tenant_id = '${tenant}' AND details['request.path'] = '/api/v1/invoices/inv-777777' LIMIT 100`,
    json: `SELECT event_id, event_details FROM ${db}.ev_json WHERE tenant_id = '${tenant}' AND event_details.request.path::String = '/api/v1/invoices/inv-777777' LIMIT 100`,
  },
  'read 1,000 whole event_details (newest first)': {
    map: `SELECT event_id, event_details FROM ${db}.ev_map WHERE tenant_id = '${tenant}' ORDER BY timestamp DESC LIMIT 1000`,
    json: `SELECT event_id, event_details FROM ${db}.ev_json WHERE tenant_id = '${tenant}' ORDER BY timestamp DESC LIMIT 1000`,
  },
};

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function timeQuery(sql: string): Promise<{ p50: number; p99: number; rows: number }> {
  const run = async () => {
    const t0 = performance.now();
    const rs = await admin.query({
      query: sql,
      format: 'JSONEachRow',
      clickhouse_settings: { use_query_cache: 0 },
    });
    const rows = await rs.json<Record<string, unknown>>();
    return { ms: performance.now() - t0, rows: rows.length, first: rows[0] };
  };
  const warm = await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push((await run()).ms);
  const rows = 'count()' in (warm.first ?? {}) ? Number(warm.first!['count()']) : warm.rows;
  return { p50: pct(times, 50), p99: pct(times, 99), rows };
}

async function main() {
  await admin.command({ query: `CREATE DATABASE ${db}` });
  try {
    for (const ddl of Object.values(tables)) await admin.command({ query: ddl });
    const insertMs = { map: 0, json: 0 };
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    for (let done = 0; done < N; done += CHUNK) {
      const n = Math.min(CHUNK, N - done);
      const events = Array.from({ length: n }, (_, k) => {
        const i = done + k;
        const input = inputEvent(i, { timestamp: new Date(base + i * 2000).toISOString() });
        // Spread the equality filter's value so it matches ~1/12 of events.
        (input.event_details!.customer as Record<string, unknown>).country = ['DE', 'FR', 'AT', 'NL'][i % 4];
        return normalizeEvent(input, {
          tenantId: tenant,
          source: 'bench',
          receivedAt: new Date(base + i * 2000),
        });
      });
      const mapRows = events.map((e, k) => toRow(e, 0, String(done + k)));
      const jsonRows = mapRows.map(
        ({ details: _d, event_details: _e, kafka_partition: _p, kafka_offset: _o, ...r }, k) => ({
          ...r,
          event_details: events[k]!.event_details,
        }),
      );
      for (const [name, rows] of [
        ['map', mapRows],
        ['json', jsonRows],
      ] as Array<['map' | 'json', Record<string, unknown>[]]>) {
        const t0 = performance.now();
        await admin.insert({
          table: `${db}.ev_${name}`,
          values: rows,
          format: 'JSONEachRow',
          clickhouse_settings: { async_insert: 0, date_time_input_format: 'best_effort' },
        });
        insertMs[name] += performance.now() - t0;
      }
      process.stdout.write(`\rinserted ${done + n}/${N}`);
    }
    process.stdout.write('\n');
    for (const name of ['map', 'json'])
      await admin.command({ query: `OPTIMIZE TABLE ${db}.ev_${name} FINAL` });

    const parts = await (
      await admin.query({
        query: `SELECT table, sum(rows) AS rows, sum(data_compressed_bytes) AS compressed, sum(data_uncompressed_bytes) AS uncompressed
                FROM system.parts WHERE database = {db:String} AND active GROUP BY table`,
        query_params: { db },
        format: 'JSONEachRow',
      })
    ).json<{ table: string; rows: string; compressed: string; uncompressed: string }>();
    const disk = Object.fromEntries(
      parts.map((p) => [
        p.table.replace('ev_', ''),
        {
          rows: Number(p.rows),
          bytesPerEvent: Math.round((Number(p.compressed) / Number(p.rows)) * 10) / 10,
          uncompressedPerEvent: Math.round((Number(p.uncompressed) / Number(p.rows)) * 10) / 10,
        },
      ]),
    );

    const table: Record<string, Record<string, string | number>> = {};
    const result: Record<string, unknown> = {
      when: new Date().toISOString(),
      events: N,
      runs: RUNS,
      insert: {
        map: Math.round(N / (insertMs.map / 1000)),
        json: Math.round(N / (insertMs.json / 1000)),
      },
      disk,
      queries: {} as Record<string, unknown>,
    };
    table['insert rows/s'] = {
      map: Math.round(N / (insertMs.map / 1000)),
      json: Math.round(N / (insertMs.json / 1000)),
    };
    table['bytes on disk per event (compressed)'] = {
      map: disk.map!.bytesPerEvent,
      json: disk.json!.bytesPerEvent,
    };
    table['bytes per event (uncompressed)'] = {
      map: disk.map!.uncompressedPerEvent,
      json: disk.json!.uncompressedPerEvent,
    };
    for (const [label, q] of Object.entries(queries)) {
      const m = await timeQuery(q.map);
      const j = await timeQuery(q.json);
      if (m.rows !== j.rows) throw new Error(`${label}: map returned ${m.rows} rows, json ${j.rows}`);
      (result.queries as Record<string, unknown>)[label] = { map: m, json: j };
      table[`${label} p50 ms (${m.rows} rows)`] = { map: round(m.p50), json: round(j.p50) };
      table[`${label} p99 ms`] = { map: round(m.p99), json: round(j.p99) };
    }
    console.table(table);
    const out = path.join(root, 'bench/results', `storage-${String(result.when).replace(/[:.]/g, '-')}.json`);
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${out}`);
  } finally {
    await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await admin.close();
  }
}

const round = (x: number) => Math.round(x * 10) / 10;

await main();
