export {
  type ClickHouseClient,
  type ClickHouseRole,
  type ClickHouseSettings,
  createClickHouse,
} from './client.ts';
export { EVENT_COLUMNS, type EventRow, type StoredEventRow } from './events-table.ts';
