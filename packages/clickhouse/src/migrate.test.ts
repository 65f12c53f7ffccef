import { describe, expect, it } from 'vitest';
import {
  CLUSTER_MIGRATIONS_DIR,
  loadMigrations,
  MIGRATIONS_DIR,
  parseRetentionDays,
  renderSql,
  splitStatements,
} from './migrate.ts';

describe('migrations', () => {
  it('the cluster variant has the same versions, all ON CLUSTER, with a Distributed events table', () => {
    const single = loadMigrations(MIGRATIONS_DIR);
    const cluster = loadMigrations(CLUSTER_MIGRATIONS_DIR);
    expect(cluster.map((m) => `${m.version}_${m.name}`)).toEqual(single.map((m) => `${m.version}_${m.name}`));
    const statements = cluster.flatMap((m) =>
      splitStatements(renderSql(m.sql, { database: 'audit', retentionDays: 90 })),
    );
    for (const s of statements) expect(s).toMatch(/ON CLUSTER '\{cluster\}'/);
    expect(statements.join('\n')).toMatch(
      /CREATE TABLE IF NOT EXISTS audit\.events ON CLUSTER .*\n?.*ENGINE = Distributed/,
    );
    expect(statements.join('\n')).toContain('TTL toDateTime(timestamp) + INTERVAL 90 DAY');
  });

  it('are numbered 1..n and each statement is idempotent (IF NOT EXISTS), never DROP', () => {
    const ms = loadMigrations();
    expect(ms.map((m) => `${m.version}_${m.name}`)).toEqual([
      '1_database',
      '2_events',
      '3_first_write',
      '4_details_semantics',
    ]);
    for (const m of ms) {
      expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
      for (const s of splitStatements(renderSql(m.sql, { database: 'audit', retentionDays: 365 }))) {
        expect(s).toMatch(/IF NOT EXISTS/);
        expect(s).not.toMatch(/\bDROP\b|\bTRUNCATE\b|\bDELETE\b/i);
      }
    }
  });

  it('renders the events table with the TTL and dedup window', () => {
    const sql = renderSql(loadMigrations()[1]!.sql, { database: 'audit', retentionDays: 30 });
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS audit.events');
    expect(sql).toContain('TTL toDateTime(timestamp) + INTERVAL 30 DAY');
    expect(sql).toContain('non_replicated_deduplication_window = 10000');
    expect(sql).toContain('ORDER BY (tenant_id, timestamp, event_id)');
    expect(splitStatements(sql)).toHaveLength(1);
  });

  it('refuses values that are not a plain identifier or a positive integer', () => {
    expect(() => renderSql('{{database}}', { database: 'audit; DROP', retentionDays: 1 })).toThrow(
      /database/,
    );
    expect(() => renderSql('{{retention_days}}', { database: 'a', retentionDays: 1.5 })).toThrow(/retention/);
    expect(() => renderSql('{{retention_days}}', { database: 'a', retentionDays: 0 })).toThrow(/retention/);
    expect(() => renderSql('{{nope}}', { database: 'a', retentionDays: 1 })).toThrow(/placeholder/);
  });

  it('splits statements on a trailing semicolon and drops comment lines', () => {
    expect(splitStatements("-- hi\nSELECT 1;\n\n-- x;\nSELECT ';' ;\n")).toEqual(['SELECT 1', "SELECT ';'"]);
  });

  it('reads the retention back from the engine description', () => {
    expect(
      parseRetentionDays(
        'ReplacingMergeTree PARTITION BY toYYYYMM(timestamp) ORDER BY (tenant_id, timestamp, event_id) TTL toDateTime(timestamp) + toIntervalDay(365) SETTINGS index_granularity = 8192',
      ),
    ).toBe(365);
    expect(parseRetentionDays('MergeTree ORDER BY x')).toBeUndefined();
  });
});
