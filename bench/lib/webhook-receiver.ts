/**
 * A webhook receiver for the streams bench: a node:http server that reads each body, counts the
 * events in it by their `"event_id":"…"` and answers 204 — nothing is parsed or verified, so it
 * costs far less CPU than any sender it measures. It runs in a child process of its own: in the
 * bench process it would share an event loop with the ceiling's consumer and slow exactly the
 * side that must not be slowed.
 *
 * Counts are kept per request path, so each case of a run posts to a path of its own and a late
 * request of an earlier case never lands in a later one's numbers.
 */
import { type ChildProcess, fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, repoRoot } from './services.ts';

export interface ReceiverStats {
  requests: number;
  /** Events received, duplicates included. */
  events: number;
  /** Distinct event_ids. */
  unique: number;
  duplicates: number;
  bytes: number;
  /** Date.now() of the first request and of the last one that brought a new event (0: none yet). */
  firstMs: number;
  lastNewMs: number;
}

export interface WebhookReceiver {
  /** Base URL, without a path: a case posts to `${url}/<case>`. */
  url: string;
  pid: number;
  stats(path: string): Promise<ReceiverStats>;
  /** CPU seconds (user + system) the receiver has used so far. */
  cpuSeconds(): number;
  close(): Promise<void>;
}

type Request = { op: 'stats'; id: number; path: string };
type Reply = { op: 'stats'; id: number; stats: ReceiverStats } | { op: 'listening'; port: number };

const CHILD_FLAG = 'BENCH_WEBHOOK_RECEIVER_CHILD';
const ID_KEY = '"event_id":"';
const UUID_LENGTH = 36;

const empty = (): ReceiverStats => ({
  requests: 0,
  events: 0,
  unique: 0,
  duplicates: 0,
  bytes: 0,
  firstMs: 0,
  lastNewMs: 0,
});

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [CHILD_FLAG]: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, (s: ReceiverStats) => void>();
  let nextId = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`webhook receiver exited (${code}) before listening`)));
    child.on('message', (m: Reply) => {
      if (m.op === 'listening') resolve(m.port);
      else waiting.get(m.id)?.(m.stats);
    });
  });
  child.removeAllListeners('exit');
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const pid = child.pid!;
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    stats: (path) =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, (s) => {
          waiting.delete(id);
          resolve(s);
        });
        child.send({ op: 'stats', id, path } satisfies Request);
      }),
    cpuSeconds: () => cpuSeconds(pid),
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function serve() {
  const byPath = new Map<string, { stats: ReceiverStats; ids: Set<string> }>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      const path = req.url ?? '/';
      let s = byPath.get(path);
      if (!s) {
        s = { stats: empty(), ids: new Set() };
        byPath.set(path, s);
      }
      const { stats, ids } = s;
      // event_ids are ASCII: latin1 decodes without UTF-8's validation pass.
      const body = Buffer.concat(chunks).toString('latin1');
      stats.requests++;
      stats.bytes += body.length;
      if (stats.firstMs === 0) stats.firstMs = now;
      for (let at = body.indexOf(ID_KEY); at >= 0; at = body.indexOf(ID_KEY, at + UUID_LENGTH)) {
        at += ID_KEY.length;
        const id = body.slice(at, at + UUID_LENGTH);
        stats.events++;
        if (ids.has(id)) stats.duplicates++;
        else {
          ids.add(id);
          stats.unique++;
          stats.lastNewMs = now;
        }
      }
      res.writeHead(204).end();
    });
  });
  // Senders keep their connections alive between batches; so must the receiver.
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.send!({ op: 'listening', port } satisfies Reply);
  });
  process.on('message', (m: Request) => {
    if (m.op === 'stats') {
      const stats = byPath.get(m.path)?.stats ?? empty();
      process.send!({ op: 'stats', id: m.id, stats } satisfies Reply);
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}

if (process.env[CHILD_FLAG] === '1') serve();
