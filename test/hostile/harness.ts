import { readFileSync } from 'node:fs';
import net from 'node:net';
import { expect } from 'vitest';

/** What every hostile case must get back: a 4xx JSON error naming what is wrong, in words. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Text that must never reach a client: stack frames and ClickHouse's own error text. */
const LEAK_RE =
  /DB::Exception|Code: \d+|\bat [\w.<>]+ \(|node_modules|\.ts:\d+|Error: |SYNTAX_ERROR|UNKNOWN_IDENTIFIER/;

/**
 * Asserts the JSON error contract: the exact status (or any 4xx when `status` is undefined),
 * `{error:{code,message}}`, a non-empty message without stack traces or database text, and the
 * exact code when one is given. Returns the parsed body.
 */
export function expectErrorBody(
  label: string,
  status: number,
  contentType: string | null,
  text: string,
  expected: { status?: number; code?: string },
): ErrorBody {
  const where = `${label}: ${status} ${text.slice(0, 300)}`;
  expect(status, where).toBeGreaterThanOrEqual(400);
  expect(status, where).toBeLessThan(500);
  if (expected.status !== undefined) expect(status, where).toBe(expected.status);
  expect(contentType ?? '', where).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(Object.keys(body), where).toEqual(['error']);
  expect(typeof body.error.code, where).toBe('string');
  expect(body.error.code.length, where).toBeGreaterThan(0);
  expect(typeof body.error.message, where).toBe('string');
  expect(body.error.message.trim().length, where).toBeGreaterThan(3);
  expect(text, where).not.toMatch(LEAK_RE);
  if (expected.code !== undefined) expect(body.error.code, where).toBe(expected.code);
  return body;
}

export async function expectError(
  label: string,
  res: Response,
  expected: { status?: number; code?: string },
): Promise<ErrorBody> {
  return expectErrorBody(label, res.status, res.headers.get('content-type'), await res.text(), expected);
}

/** Case counts per category, printed once per file so the corpus size shows in the test output. */
export class Tally {
  private readonly counts = new Map<string, number>();
  constructor(private readonly file: string) {}
  add(category: string, n = 1) {
    this.counts.set(category, (this.counts.get(category) ?? 0) + n);
  }
  get total() {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
  print() {
    const rows = [...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b));
    const lines = rows.map(([c, n]) => `  ${c.padEnd(28)} ${n}`);
    console.log(`[hostile] ${this.file}: ${this.total} cases\n${lines.join('\n')}`);
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** True when the server closed the connection before we stopped reading. */
  closed: boolean;
}

/**
 * Sends exact bytes on a fresh TCP connection and parses the first HTTP/1.1 response. Used
 * where fetch would normalise the request (duplicate headers, lying Content-Length, raw bytes).
 */
export function rawRequest(port: number, request: Buffer | string, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      const parsed = parseResponse(Buffer.concat(chunks));
      if (!parsed && !closed) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (!parsed) reject(new Error(`no HTTP response (${Buffer.concat(chunks).length} bytes)`));
      else resolve({ ...parsed, closed });
    };
    const timer = setTimeout(() => {
      done = true;
      socket.destroy();
      reject(new Error(`raw request timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (d) => {
      chunks.push(d);
      finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    // The server may answer and close before it read everything we wrote (413, 431).
    socket.on('error', () => finish(true));
    socket.write(request);
  });
}

function parseResponse(buf: Buffer): Omit<RawResponse, 'closed'> | undefined {
  const sep = buf.indexOf('\r\n\r\n');
  if (sep < 0) return undefined;
  const head = buf.subarray(0, sep).toString('latin1').split('\r\n');
  const status = Number(head[0]?.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = buf.subarray(sep + 4);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    const out: Buffer[] = [];
    let pos = 0;
    for (;;) {
      const eol = rest.indexOf('\r\n', pos);
      if (eol < 0) return undefined;
      const size = Number.parseInt(rest.subarray(pos, eol).toString('latin1'), 16);
      if (size === 0) break;
      if (rest.length < eol + 2 + size) return undefined;
      out.push(rest.subarray(eol + 2, eol + 2 + size));
      pos = eol + 2 + size + 2;
    }
    return { status, headers, body: Buffer.concat(out).toString('utf8') };
  }
  const length = Number(headers['content-length'] ?? 0);
  if (rest.length < length) return undefined;
  return { status, headers, body: rest.subarray(0, length).toString('utf8') };
}

/** An HTTP/1.1 request as bytes: headers in the given order (repeats allowed), then the body. */
export function httpBytes(
  method: string,
  path: string,
  headers: [string, string][],
  body: Buffer | string = '',
  opts: { keepAlive?: boolean } = {},
): Buffer {
  const head = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  // Node answers bytes after a `Connection: close` request with a bare 400, so pipelining keeps alive.
  if (!opts.keepAlive) head.push('Connection: close');
  for (const [k, v] of headers) head.push(`${k}: ${v}`);
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body)]);
}

/** Nothing an attacker sent may have reached Object.prototype of this (in-process) server. */
export function expectPrototypeClean(): void {
  const probe = {} as Record<string, unknown>;
  for (const k of ['admin', 'polluted', 'isAdmin', 'tenant', 'tenant_id'])
    expect(probe[k], k).toBeUndefined();
}

/** The cases of a fixtures/*.ndjson file, one JSON object per line. */
export function readCases<T>(file: string): T[] {
  const text = readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}
