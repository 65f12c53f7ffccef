export {
  type ClickHouseClient,
  type ClickHouseRole,
  type ClickHouseSettings,
  createClickHouse,
} from './client.ts';
