import type { ClickHouseClient } from '@audit/clickhouse';
import { fromClickHouseTime, toClickHouseTime } from '@audit/clickhouse';

/** Fixed: the keys user's grants in deploy/clickhouse/users.xml name it (grants cannot be templated). */
export const CONTROL_DATABASE = 'audit_control';

/**
 * Append-only: a key is a series of events (`created`, then perhaps `expires` — a rotation's
 * grace period — and `revoked`), never updated in place. A key's state folds its rows with
 * monotone rules (earliest revocation, earliest expiry), so it does not depend on the order
 * replicas wrote them in, and a revocation can never be undone by a later row.
 */
export function controlDdl(db = CONTROL_DATABASE): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    `CREATE TABLE IF NOT EXISTS ${db}.tenants (
      tenant_id String,
      name String,
      created_by String,
      created_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree ORDER BY tenant_id`,
    `CREATE TABLE IF NOT EXISTS ${db}.api_key_events (
      key_id String,
      kind LowCardinality(String),
      tenant_id String,
      name String,
      scopes Array(String),
      secret_sha256 String,
      expires_at Nullable(DateTime64(3, 'UTC')),
      replaces String,
      actor String,
      at DateTime64(3, 'UTC'),
      recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree ORDER BY (key_id, kind, at)`,
  ];
}

export type KeyEventKind = 'created' | 'expires' | 'revoked';

export interface KeyState {
  keyId: string;
  tenant: string;
  name: string;
  scopes: string[];
  secretHash: string;
  createdAt: string;
  createdBy: string;
  /** ISO; the earliest of the key's own expiry and any later shortening (rotation grace). */
  expiresAt: string | null;
  revokedAt: string | null;
  /** The key this one was rotated from. */
  replaces: string | null;
}

export interface Tenant {
  tenant_id: string;
  name: string;
  created_by: string;
  created_at: string;
}

/** A cut-off of some key (revocation or shortened expiry), as the verifiers poll them. */
export interface KeyCutoff {
  keyId: string;
  /** Epoch ms from which tokens of this key are refused. */
  cutoffMs: number;
  /** Epoch ms the row was stored (server clock), for the next poll's lower bound. */
  recordedMs: number;
}

interface KeyEventRow {
  key_id: string;
  kind: KeyEventKind;
  tenant_id: string;
  name: string;
  scopes: string[];
  secret_sha256: string;
  expires_at: string | null;
  replaces: string;
  actor: string;
  at: string;
}

export interface KeyStore {
  ensureSchema(): Promise<void>;
  createTenant(t: { tenant_id: string; name: string; created_by: string; at: Date }): Promise<void>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;
  /** Stores the `created` row of a key. */
  addKey(k: {
    keyId: string;
    tenant: string;
    name: string;
    scopes: string[];
    secretHash: string;
    expiresAt: Date | null;
    replaces?: string;
    actor: string;
    at: Date;
  }): Promise<void>;
  /** `revoked` (now) or `expires` (a later cut-off, e.g. after rotation). */
  cutKey(k: {
    keyId: string;
    tenant: string;
    kind: 'revoked' | 'expires';
    at: Date;
    actor: string;
  }): Promise<void>;
  getKey(keyId: string): Promise<KeyState | undefined>;
  listKeys(tenant: string): Promise<KeyState[]>;
  /** Cut-offs stored at or after `sinceMs` (server clock). */
  cutoffsSince(sinceMs: number): Promise<KeyCutoff[]>;
}

const chTime = (d: Date) => toClickHouseTime(d.getTime());

/** Folds the rows of one key; undefined without a `created` row. */
export function foldKey(rows: KeyEventRow[]): KeyState | undefined {
  const created = rows.find((r) => r.kind === 'created');
  if (!created) return undefined;
  const earliest = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a < b ? a : b);
  let expiresAt = created.expires_at;
  let revokedAt: string | null = null;
  for (const r of rows) {
    if (r.kind === 'expires') expiresAt = earliest(expiresAt, r.at);
    if (r.kind === 'revoked') revokedAt = earliest(revokedAt, r.at);
  }
  const iso = (t: string | null) => (t === null ? null : fromClickHouseTime(t));
  return {
    keyId: created.key_id,
    tenant: created.tenant_id,
    name: created.name,
    scopes: created.scopes,
    secretHash: created.secret_sha256,
    createdAt: fromClickHouseTime(created.at),
    createdBy: created.actor,
    expiresAt: iso(expiresAt),
    revokedAt: iso(revokedAt),
    replaces: created.replaces === '' ? null : created.replaces,
  };
}

export function createKeyStore(client: ClickHouseClient, db = CONTROL_DATABASE): KeyStore {
  const rows = async <T>(query: string, params: Record<string, unknown> = {}) =>
    (await (await client.query({ query, query_params: params, format: 'JSONEachRow' })).json()) as T[];
  const keyColumns = 'key_id, kind, tenant_id, name, scopes, secret_sha256, expires_at, replaces, actor, at';
  const insertEvent = (r: KeyEventRow) =>
    client.insert({ table: `${db}.api_key_events`, values: [r], format: 'JSONEachRow' });

  return {
    async ensureSchema() {
      for (const query of controlDdl(db)) await client.command({ query });
    },
    async createTenant(t) {
      await client.insert({
        table: `${db}.tenants`,
        values: [
          { tenant_id: t.tenant_id, name: t.name, created_by: t.created_by, created_at: chTime(t.at) },
        ],
        format: 'JSONEachRow',
      });
    },
    async getTenant(tenantId) {
      const [t] = await rows<Tenant>(
        `SELECT tenant_id, name, created_by, created_at FROM ${db}.tenants FINAL WHERE tenant_id = {t:String} LIMIT 1`,
        { t: tenantId },
      );
      return t && { ...t, created_at: fromClickHouseTime(t.created_at) };
    },
    async listTenants() {
      const all = await rows<Tenant>(
        `SELECT tenant_id, name, created_by, created_at FROM ${db}.tenants FINAL ORDER BY tenant_id LIMIT 100000`,
      );
      return all.map((t) => ({ ...t, created_at: fromClickHouseTime(t.created_at) }));
    },
    async addKey(k) {
      await insertEvent({
        key_id: k.keyId,
        kind: 'created',
        tenant_id: k.tenant,
        name: k.name,
        scopes: k.scopes,
        secret_sha256: k.secretHash,
        expires_at: k.expiresAt ? chTime(k.expiresAt) : null,
        replaces: k.replaces ?? '',
        actor: k.actor,
        at: chTime(k.at),
      });
    },
    async cutKey(k) {
      await insertEvent({
        key_id: k.keyId,
        kind: k.kind,
        tenant_id: k.tenant,
        name: '',
        scopes: [],
        secret_sha256: '',
        expires_at: null,
        replaces: '',
        actor: k.actor,
        at: chTime(k.at),
      });
    },
    async getKey(keyId) {
      return foldKey(
        await rows<KeyEventRow>(`SELECT ${keyColumns} FROM ${db}.api_key_events WHERE key_id = {k:String}`, {
          k: keyId,
        }),
      );
    },
    async listKeys(tenant) {
      const all = await rows<KeyEventRow>(
        `SELECT ${keyColumns} FROM ${db}.api_key_events WHERE tenant_id = {t:String} ORDER BY key_id, at LIMIT 1000000`,
        { t: tenant },
      );
      const byKey = new Map<string, KeyEventRow[]>();
      for (const r of all) byKey.set(r.key_id, [...(byKey.get(r.key_id) ?? []), r]);
      return [...byKey.values()]
        .map(foldKey)
        .filter((k): k is KeyState => k !== undefined)
        .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    },
    async cutoffsSince(sinceMs) {
      const found = await rows<{ key_id: string; at_ms: string; recorded_ms: string }>(
        `SELECT key_id, toUnixTimestamp64Milli(at) AS at_ms, toUnixTimestamp64Milli(recorded_at) AS recorded_ms
         FROM ${db}.api_key_events
         WHERE kind IN ('revoked', 'expires') AND recorded_at >= fromUnixTimestamp64Milli({since:Int64})
         LIMIT 1000000`,
        { since: sinceMs },
      );
      return found.map((r) => ({
        keyId: r.key_id,
        cutoffMs: Number(r.at_ms),
        recordedMs: Number(r.recorded_ms),
      }));
    },
  };
}
