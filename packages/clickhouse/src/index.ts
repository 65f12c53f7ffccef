export {
  type ClickHouseClient,
  type ClickHouseRole,
  type ClickHouseSettings,
  createClickHouse,
} from './client.ts';
export { type ClickHouseErrorKind, classifyClickHouseError } from './errors.ts';
export { EVENT_COLUMNS, type EventRow, eventsTable, type StoredEventRow } from './events-table.ts';
export { rowToEvent } from './from-row.ts';
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
export { tupleArrayParam } from './params.ts';
export {
  type EventKey,
  eventKey,
  type IdIndexOptions,
  type StoredEventsLookup,
  type StoredIdentity,
  storedEventsLookup,
} from './stored-events.ts';
export { fromClickHouseTime, toClickHouseTime } from './time.ts';
export { toRow } from './to-row.ts';
