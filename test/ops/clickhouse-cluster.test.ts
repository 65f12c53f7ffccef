/**
 * deploy/clickhouse/cluster: the sharded/replicated migrations must stay the single-node schema
 * (same versions, same columns and indexes, same ORDER BY/PARTITION/TTL), load and render with
 * the sink's migration runner, and run every statement ON CLUSTER. No cluster runs here; the
 * integration test clickhouse-cluster.int.test.ts has the real server parse each statement.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadMigrations, MIGRATIONS_DIR, renderSql, splitStatements } from '@audit/clickhouse';
import { describe, expect, it } from 'vitest';
import { CLUSTER_DIR, clusterStatements, VARS as vars } from './cluster-migrations.ts';
import { root } from './metrics-catalog.ts';

/** The body of a CREATE TABLE: column and index lines, whitespace-normalised. */
function tableBody(statement: string): string[] {
  const open = statement.indexOf('(');
  let depth = 0;
  let end = open;
  for (let i = open; i < statement.length; i++) {
    if (statement[i] === '(') depth++;
    if (statement[i] === ')' && --depth === 0) {
      end = i;
      break;
    }
  }
  return statement
    .slice(open + 1, end)
    .split('\n')
    .map((l) => l.trim().replace(/,$/, ''))
    .filter(Boolean);
}
const clause = (statement: string, name: string) =>
  new RegExp(`^\\)?\\s*${name} (.+)$`, 'm').exec(statement)?.[1]?.trim();

describe('ClickHouse cluster migrations', () => {
  const single = loadMigrations(MIGRATIONS_DIR);
  const cluster = loadMigrations(CLUSTER_DIR);
  const singleEvents = splitStatements(renderSql(single.find((m) => m.name === 'events')!.sql, vars))[0]!;
  const statements = clusterStatements();
  const local = statements.find((s) => s.includes('.events_local ON CLUSTER') && s.includes('CREATE TABLE'))!;
  const distributed = statements.find((s) => /CREATE TABLE IF NOT EXISTS audit\.events ON CLUSTER/.test(s))!;

  it('has the same versions and names as the single-node migrations', () => {
    expect(cluster.map((m) => `${m.version}_${m.name}`)).toEqual(single.map((m) => `${m.version}_${m.name}`));
  });

  it('runs every statement on the whole cluster', () => {
    expect(statements.length).toBe(11);
    for (const s of statements) expect(s).toContain(`ON CLUSTER '{cluster}'`);
  });

  it('keeps the single-node columns, indexes, key, partitioning and TTL in events_local', () => {
    expect(tableBody(local)).toEqual(tableBody(singleEvents));
    for (const c of ['ORDER BY', 'PARTITION BY', 'TTL'])
      expect(clause(local, c), c).toBe(clause(singleEvents, c));
    expect(clause(local, 'ENGINE =')).toBe(
      `ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/audit/events_local', '{replica}')`,
    );
    expect(local).toContain('replicated_deduplication_window = 10000');
  });

  it('reads and writes through a Distributed table named events, sharded by tenant and event id', () => {
    expect(distributed).toContain('AS audit.events_local');
    // Both copies of a resent event hash to the same shard, so FINAL still collapses them.
    expect(clause(distributed, 'ENGINE =')).toBe(
      `Distributed('{cluster}', audit, events_local, cityHash64(tenant_id, event_id))`,
    );
  });

  it('the cluster users file is the single-node one plus the documented cluster grants', () => {
    const strip = (xml: string) =>
      xml
        .replace(/<!--[\s\S]*?-->/g, '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    const base = strip(fs.readFileSync(path.join(root, 'deploy/clickhouse/users.xml'), 'utf8'));
    const clusterUsers = strip(
      fs.readFileSync(path.join(root, 'deploy/clickhouse/cluster/users.xml'), 'utf8'),
    );
    expect(clusterUsers.filter((l) => !base.includes(l))).toEqual([
      '<distributed_foreground_insert>1</distributed_foreground_insert>',
      '<query>GRANT TABLE ENGINE ON ReplicatedReplacingMergeTree</query>',
      '<query>GRANT TABLE ENGINE ON Distributed</query>',
      '<query>GRANT CLUSTER ON *.*</query>',
    ]);
    expect(base.filter((l) => !clusterUsers.includes(l))).toEqual([]);
  });

  it('the server config defines the macros the migrations use and three Keeper nodes', () => {
    const cfg = fs.readFileSync(path.join(root, 'deploy/clickhouse/cluster/config.d/cluster.xml'), 'utf8');
    for (const macro of ['cluster', 'shard', 'replica']) expect(cfg).toMatch(new RegExp(`<${macro}[ >]`));
    expect(cfg).toContain('<cluster>audit</cluster>');
    expect(cfg.match(/<internal_replication>true<\/internal_replication>/g)).toHaveLength(2);
    const keeper = fs.readFileSync(path.join(root, 'deploy/clickhouse/cluster/keeper/keeper.xml'), 'utf8');
    expect(keeper.match(/<server><id>\d<\/id>/g)).toHaveLength(3);
    expect(cfg.match(/<node><host>keeper-\d<\/host><port>9181<\/port><\/node>/g)).toHaveLength(3);
  });
});
