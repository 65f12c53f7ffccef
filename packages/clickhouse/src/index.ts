export {
  type ClickHouseClient,
  type ClickHouseRole,
  type ClickHouseSettings,
  createClickHouse,
} from './client.ts';
export { EVENT_COLUMNS, type EventRow, type StoredEventRow } from './events-table.ts';
export { tupleArrayParam } from './params.ts';
export {
  type EventKey,
  eventKey,
  type IdIndexOptions,
  type StoredEventsLookup,
  type StoredIdentity,
  storedEventsLookup,
} from './stored-events.ts';
