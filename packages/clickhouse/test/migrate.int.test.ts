import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, stackSchema } from '@audit/config';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse } from '../src/client.ts';
import { MIGRATIONS_DIR, migrate } from '../src/migrate.ts';

const stack = loadConfig(stackSchema);
const admin = createClickHouse(stack, 'admin');
const db = `audit_mig_${randomBytes(5).toString('hex')}`;

afterAll(async () => {
  await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await admin.close();
});

async function recorded(database: string) {
  const rs = await admin.query({
    query: `SELECT version, name FROM ${database}.schema_migrations FINAL ORDER BY version`,
    format: 'JSONEachRow',
  });
  return rs.json<{ version: number; name: string }>();
}

async function engineFull(table = 'events') {
  const rs = await admin.query({
    query: `SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {table:String}`,
    query_params: { db, table },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ engine_full: string }>())[0]?.engine_full ?? '';
}

describe('migrations (real ClickHouse)', () => {
  it('three instances migrating a fresh database at once: one schema, each version recorded once', async () => {
    const results = await Promise.all(
      [1, 2, 3].map(() => migrate(admin, { database: db, retentionDays: 365 })),
    );
    expect(results.flatMap((r) => r.applied).length).toBeGreaterThanOrEqual(3);
    expect(await recorded(db)).toEqual([
      { version: 1, name: 'database' },
      { version: 2, name: 'events' },
      { version: 3, name: 'first_write' },
      { version: 4, name: 'details_semantics' },
    ]);
    expect(await engineFull()).toMatch(
      /ReplacingMergeTree.*TTL toDateTime\(timestamp\) \+ toIntervalDay\(365\).*non_replicated_deduplication_window = 10000/,
    );
    // Nothing left to do on the next start.
    expect(await migrate(admin, { database: db, retentionDays: 365 })).toEqual({ applied: [] });
  });

  it('a changed RETENTION_DAYS is applied to the existing table', async () => {
    await migrate(admin, { database: db, retentionDays: 30 });
    expect(await engineFull()).toContain('toIntervalDay(30)');
    expect(await engineFull('event_ids')).toContain('toIntervalDay(30)');
  });

  it('refuses to start when an applied migration file was edited', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mig-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    writeFileSync(path.join(dir, '0002_events.sql'), '-- edited\nSELECT 1;\n');
    await expect(migrate(admin, { database: db, retentionDays: 30 }, { dir })).rejects.toThrow(
      /migration 2 \(events\) was changed/,
    );
  });

  it('the writer user (no DROP rights) migrates the real database', async () => {
    const writer = createClickHouse(stack, 'writer');
    try {
      await migrate(writer, { database: stack.CLICKHOUSE_DATABASE, retentionDays: 365 });
      // The shared server may already hold later versions from a newer checkout: ours are all there.
      const versions = (await recorded(stack.CLICKHOUSE_DATABASE)).map((r) => Number(r.version));
      expect(versions.slice(0, 4)).toEqual([1, 2, 3, 4]);
    } finally {
      await writer.close();
    }
  });
});
