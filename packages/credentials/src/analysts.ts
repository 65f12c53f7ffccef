import { createHash, randomBytes } from 'node:crypto';
import { TENANT_RE } from '@audit/auth';
import type { ClickHouseClient } from '@audit/clickhouse';

/**
 * Tables of the trail that hold tenant rows, each with a `tenant_id` column: an analyst gets
 * SELECT on these only under a row policy `tenant_id = '<tenant>'` (tlog_keys holds the public
 * verifier keys, no tenant data, and is granted without one).
 */
export const TENANT_TABLES = [
  'events',
  'event_ids',
  'tlog_leaves',
  'tlog_nodes',
  'tlog_checkpoints',
] as const;
export const SHARED_TABLES = ['tlog_keys'] as const;
export const ANALYST_NAME_RE = /^[a-z0-9][a-z0-9_]{0,31}$/;
/** The users.xml profile every analyst runs with (read-only, time and result limits). */
export const ANALYST_PROFILE = 'audit_analyst';

export const tenantRole = (tenant: string) => `audit_tenant_${tenant}`;
export const analystUser = (tenant: string, name: string) => `analyst_${tenant}_${name}`;
const ident = (s: string) => `\`${s.replace(/[`\\]/g, '')}\``;

/**
 * The DDL that gives `tenant` a role (SELECT on the trail, a row policy on every tenant table,
 * a per-user quota) and creates one analyst user in it, idempotent except for the user. The
 * password reaches ClickHouse only as a salted SHA-256, so it is in no query log. The SELECT
 * grant and the row policies sit in the same role: a user who disables the role (SET ROLE NONE)
 * loses the grant with the policy.
 */
export function analystDdl(
  database: string,
  tenant: string,
  name: string,
  password: string,
  salt = randomBytes(16).toString('hex'),
): string[] {
  if (!TENANT_RE.test(tenant)) throw new Error(`bad tenant: ${tenant}`);
  if (!ANALYST_NAME_RE.test(name)) throw new Error(`bad analyst name: ${name}`);
  const role = ident(tenantRole(tenant));
  const user = ident(analystUser(tenant, name));
  const hash = createHash('sha256')
    .update(password + salt)
    .digest('hex');
  const tables = TENANT_TABLES.map((t) => `${ident(database)}.${ident(t)}`);
  return [
    `CREATE ROLE IF NOT EXISTS ${role}`,
    ...[...TENANT_TABLES, ...SHARED_TABLES].map(
      (t) => `GRANT SELECT ON ${ident(database)}.${ident(t)} TO ${role}`,
    ),
    `CREATE ROW POLICY IF NOT EXISTS ${ident(`tenant_${tenant}`)} ON ${tables.join(', ')} FOR SELECT USING tenant_id = '${tenant}' TO ${role}`,
    `CREATE QUOTA IF NOT EXISTS ${ident(`analysts_${tenant}`)} KEYED BY user_name FOR INTERVAL 1 hour MAX queries = 2000, errors = 500, result_rows = 100000000, read_rows = 50000000000, execution_time = 7200 TO ${role}`,
    `CREATE USER ${user} IDENTIFIED WITH sha256_hash BY '${hash}' SALT '${salt}' SETTINGS PROFILE '${ANALYST_PROFILE}'`,
    `GRANT ${role} TO ${user}`,
    `ALTER USER ${user} DEFAULT ROLE ${role}`,
  ];
}

export type CreateAnalystResult =
  | { ok: true; user: string; password: string }
  | { ok: false; reason: 'exists' | 'unsupported'; message: string };

/** Runs analystDdl with the access user; ClickHouse's own refusals come back as reasons. */
export async function createAnalyst(
  client: ClickHouseClient,
  database: string,
  tenant: string,
  name: string,
): Promise<CreateAnalystResult> {
  const password = randomBytes(24).toString('base64url');
  try {
    for (const query of analystDdl(database, tenant, name, password)) await client.command({ query });
  } catch (err) {
    const text = (err as Error).message;
    if (/ACCESS_STORAGE_FOR_INSERTION_NOT_FOUND|no writeable access storage/i.test(text)) {
      return {
        ok: false,
        reason: 'unsupported',
        message:
          'this ClickHouse cannot store SQL-created users (the local chDB stack has none); declare the analyst in users.xml (docs/analysts.md)',
      };
    }
    if (/already exists|USER_ALREADY_EXISTS|ACCESS_ENTITY_ALREADY_EXISTS/i.test(text)) {
      return { ok: false, reason: 'exists', message: `analyst ${analystUser(tenant, name)} already exists` };
    }
    throw err;
  }
  return { ok: true, user: analystUser(tenant, name), password };
}
