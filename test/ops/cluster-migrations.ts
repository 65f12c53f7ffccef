import { CLUSTER_MIGRATIONS_DIR, loadMigrations, renderSql, splitStatements } from '@audit/clickhouse';

/** The sharded/replicated variant of the sink's migrations (docs/scaling.md). */
export const CLUSTER_DIR = CLUSTER_MIGRATIONS_DIR;
export const VARS = { database: 'audit', retentionDays: 365 };

/** Every statement of the cluster migrations, rendered and split as the sink's runner does. */
export function clusterStatements(): string[] {
  return loadMigrations(CLUSTER_DIR).flatMap((m) => splitStatements(renderSql(m.sql, VARS)));
}
