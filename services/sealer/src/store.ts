import { type ClickHouseClient, tupleArrayParam } from '@audit/clickhouse';
import { fromHex, type Hash, type NodeId } from '@audit/tlog';

/**
 * The sealer's own tables, created with idempotent DDL by the sealer's user (it has no rights on
 * `events`). ReplacingMergeTree on the natural keys: a seal retried after a failed request
 * writes the same rows again and they collapse. Readers use FINAL.
 *
 *   tlog_leaves       leaf i of a tenant's log: the event id, its leaf hash, its Kafka origin
 *   tlog_nodes        perfect subtree roots (level ≥ 1), so proofs need O(log² n) reads
 *   tlog_checkpoints  every signed checkpoint (the C2SP note text)
 *   tlog_keys         verifier keys the sealer signs or signed with (served by GET /keys)
 */
export function ddl(db: string): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    `CREATE TABLE IF NOT EXISTS ${db}.tlog_leaves (
      tenant_id LowCardinality(String),
      leaf_index UInt64,
      event_id UUID,
      leaf_hash FixedString(64),
      source_topic LowCardinality(String),
      source_partition UInt32,
      source_offset UInt64,
      sealed_at DateTime64(3, 'UTC') DEFAULT now64(3),
      INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 1
    ) ENGINE = ReplacingMergeTree ORDER BY (tenant_id, leaf_index)`,
    `CREATE TABLE IF NOT EXISTS ${db}.tlog_nodes (
      tenant_id LowCardinality(String),
      level UInt8,
      node_index UInt64,
      hash FixedString(64)
    ) ENGINE = ReplacingMergeTree ORDER BY (tenant_id, level, node_index)`,
    `CREATE TABLE IF NOT EXISTS ${db}.tlog_checkpoints (
      tenant_id LowCardinality(String),
      tree_size UInt64,
      root_hash FixedString(64),
      note String,
      key_id String,
      created_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree ORDER BY (tenant_id, tree_size)`,
    `CREATE TABLE IF NOT EXISTS ${db}.tlog_keys (
      verifier_key String,
      key_id String,
      added_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree ORDER BY verifier_key`,
  ];
}

export interface LeafRow {
  tenant_id: string;
  leaf_index: number;
  event_id: string;
  leaf_hash: string;
  source_topic: string;
  source_partition: number;
  source_offset: number;
}

export interface NodeRow {
  tenant_id: string;
  level: number;
  node_index: number;
  hash: string;
}

export interface CheckpointRow {
  tenant_id: string;
  tree_size: number;
  root_hash: string;
  note: string;
  key_id: string;
  created_at: string;
}

export interface TenantState {
  size: number;
  edge: Hash[];
  last?: { size: number; note: string };
}

export class SealerStore {
  constructor(
    private readonly ch: ClickHouseClient,
    private readonly db: string,
  ) {}

  async migrate(): Promise<void> {
    for (const q of ddl(this.db)) await this.ch.command({ query: q });
  }

  /** Highest source offset sealed per (topic, partition): a record at or below it is a redelivery. */
  async sourceHighWater(): Promise<Map<string, number>> {
    const rows = await this.select<{ t: string; p: number; o: string }>(
      `SELECT source_topic AS t, source_partition AS p, max(source_offset) AS o FROM ${this.db}.tlog_leaves GROUP BY t, p`,
    );
    return new Map(rows.map((r) => [sourceKey(r.t, r.p), Number(r.o)]));
  }

  /** A tenant's log as stored: its size, the right edge to resume appending, its last checkpoint. */
  async tenantState(tenant: string, edgeIds: (size: number) => NodeId[]): Promise<TenantState> {
    const [s] = await this.select<{ n: string }>(
      `SELECT if(count() = 0, 0, max(leaf_index) + 1) AS n FROM ${this.db}.tlog_leaves WHERE tenant_id = {t:String}`,
      { t: tenant },
    );
    const size = Number(s?.n ?? 0);
    const edge = await this.nodes(tenant, edgeIds(size));
    const [c] = await this.select<{ tree_size: string; note: string }>(
      `SELECT tree_size, note FROM ${this.db}.tlog_checkpoints FINAL WHERE tenant_id = {t:String} ORDER BY tree_size DESC LIMIT 1`,
      { t: tenant },
    );
    return { size, edge, last: c ? { size: Number(c.tree_size), note: c.note } : undefined };
  }

  /** Perfect node hashes by id (level 0 from the leaves); throws if one is missing. */
  async nodes(tenant: string, ids: NodeId[]): Promise<Hash[]> {
    if (ids.length === 0) return [];
    const leafIdx = ids.filter((i) => i.level === 0).map((i) => i.index);
    const inner = ids.filter((i) => i.level > 0);
    const found = new Map<string, string>();
    if (leafIdx.length > 0) {
      const rows = await this.select<{ i: string; h: string }>(
        `SELECT leaf_index AS i, leaf_hash AS h FROM ${this.db}.tlog_leaves FINAL
         WHERE tenant_id = {t:String} AND leaf_index IN {ids:Array(UInt64)}`,
        { t: tenant, ids: leafIdx },
      );
      for (const r of rows) found.set(`0/${r.i}`, r.h);
    }
    if (inner.length > 0) {
      const rows = await this.select<{ l: number; i: string; h: string }>(
        `SELECT level AS l, node_index AS i, hash AS h FROM ${this.db}.tlog_nodes FINAL
         WHERE tenant_id = {t:String} AND (level, node_index) IN {ids:Array(Tuple(UInt8, UInt64))}`,
        { t: tenant, ids: tupleArrayParam(inner.map((i) => [i.level, i.index])) },
      );
      for (const r of rows) found.set(`${r.l}/${r.i}`, r.h);
    }
    return ids.map((id) => {
      const h = found.get(`${id.level}/${id.index}`);
      if (!h) throw new Error(`tlog node ${id.level}/${id.index} of ${tenant} is missing`);
      return fromHex(h);
    });
  }

  async insertLeaves(rows: LeafRow[]): Promise<void> {
    await this.insert('tlog_leaves', rows);
  }

  async insertNodes(rows: NodeRow[]): Promise<void> {
    await this.insert('tlog_nodes', rows);
  }

  async insertCheckpoints(rows: CheckpointRow[]): Promise<void> {
    await this.insert('tlog_checkpoints', rows);
  }

  async registerKeys(keys: { verifier_key: string; key_id: string }[]): Promise<void> {
    await this.insert('tlog_keys', keys);
  }

  /** The latest checkpoint of every tenant (re-published at start-up). */
  async latestCheckpoints(): Promise<CheckpointRow[]> {
    return this.select<CheckpointRow>(
      `SELECT tenant_id, tree_size, root_hash, note, key_id, toString(created_at) AS created_at
       FROM ${this.db}.tlog_checkpoints FINAL ORDER BY tenant_id, tree_size DESC LIMIT 1 BY tenant_id`,
    );
  }

  /** A retried insert repeats rows with the same key; ReplacingMergeTree collapses them. */
  private async insert(table: string, values: object[]): Promise<void> {
    if (values.length === 0) return;
    await this.ch.insert({ table: `${this.db}.${table}`, format: 'JSONEachRow', values });
  }

  private async select<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const rs = await this.ch.query({ query, query_params: params, format: 'JSONEachRow' });
    return rs.json<T>();
  }
}

export const sourceKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
