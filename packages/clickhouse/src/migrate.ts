import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from './client.ts';

/** The part of a pino logger the runner uses (keeps this package free of @audit/http). */
export interface MigrationLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
/** The sharded/replicated variant: the same versions, ON CLUSTER, Replicated + Distributed (docs/scaling.md). */
export const CLUSTER_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/cluster/', import.meta.url));

/**
 * `single`: one server, `events` is a ReplacingMergeTree. `cluster`: `events_local` is a
 * ReplicatedReplacingMergeTree on every shard and `events` a Distributed table over it.
 */
export type Topology = 'single' | 'cluster';

export interface Migration {
  version: number;
  name: string;
  /** The file as written (a template); its checksum is what is recorded. */
  sql: string;
  checksum: string;
}

export interface MigrationVars {
  database: string;
  retentionDays: number;
}

/** A problem a retry cannot fix (an applied migration was edited, a bad template). */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

const FILE_RE = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const IDENT_RE = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = FILE_RE.exec(file);
      if (!m) throw new MigrationError(`migration file name must be NNNN_name.sql: ${file}`);
      const sql = readFileSync(path.join(dir, file), 'utf8');
      return {
        version: Number(m[1]),
        name: m[2]!,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new MigrationError(`migration versions must be 1..n without gaps`);
  });
  return migrations;
}

/**
 * Fills `{{database}}` and `{{retention_days}}`. ClickHouse takes neither an identifier nor a TTL
 * interval as a query parameter, so both are checked here before they reach SQL text.
 */
export function renderSql(sql: string, vars: MigrationVars): string {
  if (!IDENT_RE.test(vars.database)) throw new MigrationError(`bad database name: ${vars.database}`);
  if (!Number.isSafeInteger(vars.retentionDays) || vars.retentionDays < 1) {
    throw new MigrationError(`bad retention days: ${vars.retentionDays}`);
  }
  return sql.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (key === 'database') return vars.database;
    if (key === 'retention_days') return String(vars.retentionDays);
    throw new MigrationError(`unknown placeholder {{${key}}}`);
  });
}

/** The HTTP interface runs one statement per request: split on `;` at the end of a line. */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter(Boolean);
}

interface Applied {
  version: number;
  name: string;
  checksum: string;
}

async function appliedMigrations(ch: ClickHouseClient, db: string): Promise<Map<number, Applied>> {
  const rs = await ch.query({
    query: `SELECT version, name, checksum FROM ${db}.schema_migrations FINAL ORDER BY version`,
    format: 'JSONEachRow',
  });
  const rows = await rs.json<Applied>();
  return new Map(rows.map((r) => [Number(r.version), { ...r, version: Number(r.version) }]));
}

function checkUnchanged(m: Migration, applied: Applied | undefined) {
  if (applied && applied.checksum !== m.checksum) {
    throw new MigrationError(
      `migration ${m.version} (${m.name}) was changed after it was applied: add a new migration instead`,
    );
  }
}

/** The bookkeeping table; on a cluster it is replicated so every node sees one history. */
function bookkeepingDdl(db: string, topology: Topology): string[] {
  const columns = `(
      version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
    )`;
  if (topology === 'single') {
    return [
      `CREATE DATABASE IF NOT EXISTS ${db}`,
      `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations ${columns} ENGINE = ReplacingMergeTree ORDER BY version`,
    ];
  }
  return [
    `CREATE DATABASE IF NOT EXISTS ${db} ON CLUSTER '{cluster}'`,
    `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations ON CLUSTER '{cluster}' ${columns}
    ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/${db}/schema_migrations', '{replica}')
    ORDER BY version`,
  ];
}

async function migrateOnce(
  ch: ClickHouseClient,
  migrations: Migration[],
  vars: MigrationVars,
  topology: Topology,
) {
  const db = vars.database;
  // Bookkeeping first: it lives in the database that migration 1 creates.
  for (const query of bookkeepingDdl(db, topology)) await ch.command({ query });
  const before = await appliedMigrations(ch, db);
  const applied: number[] = [];
  for (const m of migrations) {
    checkUnchanged(m, before.get(m.version));
    if (before.has(m.version)) continue;
    // No transactions in ClickHouse: every statement is idempotent (IF NOT EXISTS), so two
    // instances applying the same migration at once both succeed, and their two bookkeeping
    // rows collapse (ReplacingMergeTree by version, read with FINAL).
    for (const statement of splitStatements(renderSql(m.sql, vars))) {
      await ch.command({ query: statement });
    }
    await ch.insert({
      table: `${db}.schema_migrations`,
      format: 'JSONEachRow',
      values: [{ version: m.version, name: m.name, checksum: m.checksum }],
    });
    applied.push(m.version);
  }
  // Re-check: another instance may have recorded a different file under the same version.
  const after = await appliedMigrations(ch, db);
  for (const m of migrations) {
    if (!after.has(m.version)) throw new Error(`migration ${m.version} not recorded`);
    checkUnchanged(m, after.get(m.version));
  }
  return applied;
}

/**
 * Applies the numbered migrations not yet recorded in `<db>.schema_migrations`. Safe to run from
 * several instances at once; DDL races ("table is being created") are retried.
 */
export async function migrate(
  ch: ClickHouseClient,
  vars: MigrationVars,
  opts: { logger?: MigrationLogger; dir?: string; attempts?: number; topology?: Topology } = {},
): Promise<{ applied: number[] }> {
  const topology = opts.topology ?? 'single';
  const migrations = loadMigrations(
    opts.dir ?? (topology === 'cluster' ? CLUSTER_MIGRATIONS_DIR : MIGRATIONS_DIR),
  );
  const attempts = opts.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      const applied = await migrateOnce(ch, migrations, vars, topology);
      await applyRetention(ch, vars, topology, opts.logger);
      opts.logger?.info({ applied, latest: migrations.length }, 'migrations done');
      return { applied };
    } catch (err) {
      if (err instanceof MigrationError || attempt >= attempts) throw err;
      opts.logger?.warn({ err, attempt }, 'migration attempt failed, retrying');
      await new Promise((r) => setTimeout(r, 100 * attempt + Math.random() * 200));
    }
  }
}

/** Reads the retention (days) from a table's engine description, as ClickHouse normalises it. */
export function parseRetentionDays(engineFull: string): number | undefined {
  const m = /TTL\s+toDateTime\(timestamp\)\s*\+\s*toIntervalDay\((\d+)\)/.exec(engineFull);
  return m ? Number(m[1]) : undefined;
}

/**
 * `CREATE TABLE IF NOT EXISTS` keeps the TTL of the first start; a changed RETENTION_DAYS is
 * applied with MODIFY TTL. Existing parts are not rewritten now (materialize_ttl_after_modify=0):
 * they pick the new TTL up when merged, which keeps start-up cheap on a large table.
 */
async function applyRetention(
  ch: ClickHouseClient,
  vars: MigrationVars,
  topology: Topology,
  logger?: MigrationLogger,
) {
  // On a cluster the TTL belongs to the shards' local tables; the Distributed tables have none.
  // The id index expires with the events it indexes.
  const tables = topology === 'cluster' ? ['events_local', 'event_ids_local'] : ['events', 'event_ids'];
  for (const table of tables) {
    const rs = await ch.query({
      query: `SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {table:String}`,
      query_params: { db: vars.database, table },
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ engine_full: string }>();
    if (!row) continue;
    const current = parseRetentionDays(row.engine_full);
    if (current === vars.retentionDays) continue;
    await ch.command({
      query: `ALTER TABLE ${vars.database}.${table}${topology === 'cluster' ? " ON CLUSTER '{cluster}'" : ''} MODIFY TTL toDateTime(timestamp) + INTERVAL ${renderSql('{{retention_days}}', vars)} DAY`,
      clickhouse_settings: { materialize_ttl_after_modify: 0 },
    });
    logger?.info({ table, from: current, to: vars.retentionDays }, 'retention changed');
  }
}
