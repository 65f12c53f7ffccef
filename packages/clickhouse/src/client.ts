import type { StackConfig } from '@audit/config';
import {
  type ClickHouseClient,
  ClickHouseLogLevel,
  type ClickHouseSettings,
  createClient,
} from '@clickhouse/client';

export type { ClickHouseClient, ClickHouseSettings };

export type ClickHouseRole = 'writer' | 'reader' | 'sealer' | 'keys' | 'streamer' | 'access' | 'admin';

type Creds = Pick<
  StackConfig,
  | 'CLICKHOUSE_URL'
  | 'CLICKHOUSE_DATABASE'
  | 'CLICKHOUSE_WRITER_USER'
  | 'CLICKHOUSE_WRITER_PASSWORD'
  | 'CLICKHOUSE_READER_USER'
  | 'CLICKHOUSE_READER_PASSWORD'
  | 'CLICKHOUSE_SEALER_USER'
  | 'CLICKHOUSE_SEALER_PASSWORD'
  | 'CLICKHOUSE_KEYS_USER'
  | 'CLICKHOUSE_KEYS_PASSWORD'
  | 'CLICKHOUSE_STREAMER_USER'
  | 'CLICKHOUSE_STREAMER_PASSWORD'
  | 'CLICKHOUSE_ACCESS_USER'
  | 'CLICKHOUSE_ACCESS_PASSWORD'
  | 'CLICKHOUSE_ADMIN_USER'
  | 'CLICKHOUSE_ADMIN_PASSWORD'
>;

/**
 * A client for one of the users. Services get the writer (sink), the reader (query API) or the
 * sealer's own user;
 * the admin is for bootstrap, tests and operators only.
 */
export function createClickHouse(
  cfg: Creds,
  role: ClickHouseRole,
  opts: { requestTimeoutMs?: number; settings?: ClickHouseSettings; database?: string } = {},
): ClickHouseClient {
  const users: Record<ClickHouseRole, [string, string]> = {
    writer: [cfg.CLICKHOUSE_WRITER_USER, cfg.CLICKHOUSE_WRITER_PASSWORD],
    reader: [cfg.CLICKHOUSE_READER_USER, cfg.CLICKHOUSE_READER_PASSWORD],
    sealer: [cfg.CLICKHOUSE_SEALER_USER, cfg.CLICKHOUSE_SEALER_PASSWORD],
    keys: [cfg.CLICKHOUSE_KEYS_USER, cfg.CLICKHOUSE_KEYS_PASSWORD],
    streamer: [cfg.CLICKHOUSE_STREAMER_USER, cfg.CLICKHOUSE_STREAMER_PASSWORD],
    access: [cfg.CLICKHOUSE_ACCESS_USER, cfg.CLICKHOUSE_ACCESS_PASSWORD],
    admin: [cfg.CLICKHOUSE_ADMIN_USER, cfg.CLICKHOUSE_ADMIN_PASSWORD],
  };
  const [username, password] = users[role];
  return createClient({
    url: cfg.CLICKHOUSE_URL,
    username,
    password,
    database: opts.database ?? 'default',
    request_timeout: opts.requestTimeoutMs ?? 30_000,
    clickhouse_settings: opts.settings ?? {},
    application: `audit-${role}`,
    // Callers handle and log failures themselves; the client's own console logging would duplicate them.
    log: { level: ClickHouseLogLevel.OFF },
  });
}
