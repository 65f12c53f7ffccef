import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { LocalStackConfig } from './config.ts';
import { deployDir, stateDirs } from './paths.ts';
import { requireFreePort, requirePython } from './preflight.ts';
import { managed, runningPid, startDetached, stopManaged, tail, waitFor } from './procs.ts';

export function clickhouseProcess(cfg: LocalStackConfig) {
  return managed(stateDirs(cfg.STACK_DIR).run, 'clickhouse');
}

function libchdbPath(): string {
  const require = createRequire(import.meta.url);
  try {
    return path.join(path.dirname(require.resolve('@chdb/lib-linux-x64-gnu/package.json')), 'libchdb.so');
  } catch {
    throw new Error(
      'libchdb.so not found: run `pnpm install` (package @chdb/lib-linux-x64-gnu, linux x64 only).',
    );
  }
}

/**
 * The users file shared with docker-compose, plus the `default` user that clickhouse-local
 * runs its own session as (it has no option to pick another). That user may only open the
 * listeners and read system.numbers, which is all the serving query does.
 */
function localUsersXml(): string {
  const shared = fs.readFileSync(path.join(deployDir, 'clickhouse/users.xml'), 'utf8');
  // The dev tenants' analysts: row-filtered users.xml entries, because clickhouse-local cannot
  // store SQL-created users (docs/analysts.md).
  const devAnalysts = fs
    .readFileSync(path.join(deployDir, 'local/clickhouse/dev-analysts.xml'), 'utf8')
    .replace(/^[\s\S]*<users>\n?|\s*<\/users>[\s\S]*$/g, '');
  const localDefault = `  <default>
      <no_password/>
      <networks><ip>::/0</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <grants><query>GRANT SYSTEM LISTEN ON *.*</query><query>GRANT SELECT ON system.numbers</query></grants>
    </default>
  </users>`;
  return shared.replace('</users>', `${devAnalysts}\n  ${localDefault}`);
}

function configXml(cfg: LocalStackConfig, usersFile: string, dataDir: string): string {
  return `<clickhouse>
  <path>${dataDir}/</path>
  <http_port>${cfg.clickhouseHttpPort}</http_port>
  <tcp_port>${cfg.CLICKHOUSE_TCP_PORT}</tcp_port>
  <listen_host>${cfg.clickhouseHost}</listen_host>
  <user_directories><users_xml><path>${usersFile}</path></users_xml></user_directories>
</clickhouse>
`;
}

export async function stopClickHouse(cfg: LocalStackConfig) {
  return stopManaged(clickhouseProcess(cfg), 10_000);
}

export async function startClickHouse(
  cfg: LocalStackConfig,
  log: (s: string) => void,
): Promise<'started' | 'running'> {
  const proc = clickhouseProcess(cfg);
  const dirs = stateDirs(cfg.STACK_DIR);
  const logFile = path.join(dirs.logs, 'clickhouse.log');
  let started = false;
  if (runningPid(proc) === undefined) {
    requirePython();
    await requireFreePort(cfg.clickhouseHost, cfg.clickhouseHttpPort, 'ClickHouse HTTP');
    await requireFreePort(cfg.clickhouseHost, cfg.CLICKHOUSE_TCP_PORT, 'ClickHouse native');
    const lib = libchdbPath();
    fs.mkdirSync(dirs.clickhouseData, { recursive: true });
    const usersFile = path.join(dirs.clickhouse, 'users.xml');
    const configFile = path.join(dirs.clickhouse, 'config.xml');
    fs.writeFileSync(usersFile, localUsersXml());
    fs.writeFileSync(configFile, configXml(cfg, usersFile, dirs.clickhouseData));
    startDetached(
      proc,
      'python3',
      [path.join(deployDir, 'local/clickhouse/serve.py'), lib, configFile, logFile],
      {
        cwd: dirs.clickhouse,
        env: {
          ...process.env,
          CLICKHOUSE_ADMIN_PASSWORD: cfg.CLICKHOUSE_ADMIN_PASSWORD,
          CLICKHOUSE_WRITER_PASSWORD: cfg.CLICKHOUSE_WRITER_PASSWORD,
          CLICKHOUSE_READER_PASSWORD: cfg.CLICKHOUSE_READER_PASSWORD,
          CLICKHOUSE_SEALER_PASSWORD: cfg.CLICKHOUSE_SEALER_PASSWORD,
          CLICKHOUSE_KEYS_PASSWORD: cfg.CLICKHOUSE_KEYS_PASSWORD,
          CLICKHOUSE_STREAMER_PASSWORD: cfg.CLICKHOUSE_STREAMER_PASSWORD,
          CLICKHOUSE_ACCESS_PASSWORD: cfg.CLICKHOUSE_ACCESS_PASSWORD,
          CLICKHOUSE_OPERATOR_PASSWORD: cfg.CLICKHOUSE_OPERATOR_PASSWORD,
        },
        logFile,
      },
    );
    started = true;
    log(`clickhouse: starting on ${cfg.CLICKHOUSE_URL} (log ${logFile})`);
  }
  await waitFor(
    'ClickHouse',
    cfg.STACK_TIMEOUT_SECONDS * 1000,
    async () => runningPid(proc) !== undefined && (await clickhouseAnswers(cfg)),
    () =>
      runningPid(proc) === undefined
        ? `The server exited; last log lines:\n${tail(logFile)}`
        : `Last log lines:\n${tail(logFile)}`,
  );
  return started ? 'started' : 'running';
}

/** Healthy means the writer can authenticate and run a query, not merely that the port is open. */
export async function clickhouseAnswers(cfg: LocalStackConfig): Promise<boolean> {
  try {
    const res = await fetch(new URL('/?query=SELECT%201', cfg.CLICKHOUSE_URL), {
      headers: {
        'X-ClickHouse-User': cfg.CLICKHOUSE_WRITER_USER,
        'X-ClickHouse-Key': cfg.CLICKHOUSE_WRITER_PASSWORD,
      },
      signal: AbortSignal.timeout(1000),
    });
    return res.ok && (await res.text()).trim() === '1';
  } catch {
    return false;
  }
}

export async function clickhouseVersion(cfg: LocalStackConfig): Promise<string> {
  const res = await fetch(new URL('/?query=SELECT%20version()', cfg.CLICKHOUSE_URL), {
    headers: {
      'X-ClickHouse-User': cfg.CLICKHOUSE_READER_USER,
      'X-ClickHouse-Key': cfg.CLICKHOUSE_READER_PASSWORD,
    },
    signal: AbortSignal.timeout(2000),
  });
  return (await res.text()).trim();
}
