export {
  type ClickHouseClient,
  type ClickHouseRole,
  type ClickHouseSettings,
  createClickHouse,
} from './client.ts';
export { EVENT_COLUMNS, type EventRow, type StoredEventRow } from './events-table.ts';
export {
  CLUSTER_MIGRATIONS_DIR,
  loadMigrations,
  MIGRATIONS_DIR,
  type Migration,
  MigrationError,
  type MigrationLogger,
  type MigrationVars,
  migrate,
  parseRetentionDays,
  renderSql,
  splitStatements,
  type Topology,
} from './migrate.ts';
export {
  type EventKey,
  eventKey,
  type IdIndexOptions,
  type StoredEventsLookup,
  type StoredIdentity,
  storedEventsLookup,
} from './stored-events.ts';
export { toClickHouseTime, toRow } from './to-row.ts';
