import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../packages/http/src/index.ts';
import { expectErrorBody, httpBytes, rawRequest, Tally } from './harness.ts';
import { type IngestContext, ingestContext } from './ingest-context.ts';

/**
 * Requests fetch cannot send: invalid UTF-8 bytes, repeated or lying headers, oversized header
 * sections. The ingest API runs on a real port and these go over plain TCP.
 */
interface RawCase {
  category: 'invalid_utf8' | 'header_abuse' | 'content_length';
  name: string;
  request(c: RawContext): Buffer;
  status: number;
  /** The app's JSON error code; undefined when Node's HTTP parser answers before the app runs. */
  code?: string;
}

interface RawContext {
  token: string;
  victimToken: string;
  event(): string;
}

const json = (c: RawContext, body: Buffer | string, extra: [string, string][] = []) => {
  const bytes = Buffer.from(body);
  return httpBytes(
    'POST',
    '/events',
    [
      ['Content-Type', 'application/json'],
      ['Authorization', `Bearer ${c.token}`],
      ['Content-Length', String(bytes.length)],
      ...extra,
    ],
    bytes,
  );
};

/** A valid event whose user_id carries `bytes` (which make it invalid UTF-8). */
const withBytes = (c: RawContext, bytes: number[], field = 'user_id') => {
  const text = c.event();
  const at = text.indexOf(`"${field}":"`) + field.length + 4;
  return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bytes), Buffer.from(text.slice(at))]);
};

const utf8Cases: [string, number[]][] = [
  ['0xFF byte', [0xff]],
  ['overlong "/" (C0 AF)', [0xc0, 0xaf]],
  ['overlong NUL (C0 80, modified UTF-8)', [0xc0, 0x80]],
  ['lone continuation byte', [0x80]],
  ['truncated 3-byte sequence', [0xe2, 0x82]],
  ['CESU-8 surrogate half (ED A0 80)', [0xed, 0xa0, 0x80]],
  ['CESU-8 surrogate pair', [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]],
  ['5-byte sequence', [0xf8, 0x88, 0x80, 0x80, 0x80]],
  ['code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['latin1 é', [0xe9]],
  ['0xFE byte', [0xfe]],
];

const cases: RawCase[] = [
  ...utf8Cases.map(
    ([name, bytes]): RawCase => ({
      category: 'invalid_utf8',
      name: `${name} in a string value`,
      request: (c) => json(c, withBytes(c, bytes)),
      status: 400,
      code: 'invalid_utf8',
    }),
  ),
  {
    category: 'invalid_utf8',
    name: 'invalid byte in a details key',
    request: (c) => json(c, Buffer.from(c.event().replace('{"ok":true}', '{"k\u00ff":1}'), 'latin1')),
    status: 400,
    code: 'invalid_utf8',
  },
  {
    category: 'invalid_utf8',
    name: 'invalid byte outside any string',
    request: (c) => json(c, Buffer.concat([Buffer.from([0xff]), Buffer.from(c.event())])),
    status: 400,
    code: 'invalid_utf8',
  },
  {
    category: 'invalid_utf8',
    name: 'UTF-16LE body with BOM',
    request: (c) => json(c, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(c.event(), 'utf16le')])),
    status: 400,
    code: 'invalid_utf8',
  },
  {
    category: 'invalid_utf8',
    name: 'NDJSON: invalid byte on line 2',
    request: (c) =>
      httpBytes(
        'POST',
        '/events',
        [
          ['Content-Type', 'application/x-ndjson'],
          ['Authorization', `Bearer ${c.token}`],
          ['Transfer-Encoding', 'chunked'],
        ],
        chunked(Buffer.concat([Buffer.from(`${c.event()}\n`), withBytes(c, [0xff]), Buffer.from('\n')])),
      ),
    status: 400,
    code: 'invalid_utf8',
  },

  // Repeated headers: several credentials are never guessed between.
  {
    category: 'header_abuse',
    name: 'two Authorization headers (own token, then the victim tenant token)',
    request: (c) => json(c, c.event(), [['Authorization', `Bearer ${c.victimToken}`]]),
    status: 401,
    code: 'unauthorized',
  },
  {
    category: 'header_abuse',
    name: 'two Authorization headers (victim tenant token first)',
    request: (c) =>
      httpBytes(
        'POST',
        '/events',
        [
          ['Authorization', `Bearer ${c.victimToken}`],
          ['Authorization', `Bearer ${c.token}`],
          ['Content-Type', 'application/json'],
          ['Content-Length', String(Buffer.byteLength(c.event()))],
        ],
        c.event(),
      ),
    status: 401,
    code: 'unauthorized',
  },
  {
    category: 'header_abuse',
    name: 'two Content-Type headers (json, then text/plain)',
    request: (c) => json(c, c.event(), [['Content-Type', 'text/plain']]),
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    category: 'header_abuse',
    name: '64 KiB Authorization header (over Node’s header limit)',
    request: (c) =>
      httpBytes(
        'POST',
        '/events',
        [['Authorization', `Bearer ${c.token}${'a'.repeat(64 * 1024)}`]],
        c.event(),
      ),
    status: 431,
  },
  {
    category: 'header_abuse',
    name: 'NUL byte in a header value',
    request: (c) => json(c, c.event(), [['X-Evil', 'a\u0000b']]),
    status: 400,
  },

  // Content-Length that lies or fights Transfer-Encoding.
  {
    category: 'content_length',
    name: 'Content-Length far above the byte limit',
    request: (c) =>
      httpBytes(
        'POST',
        '/events',
        [
          ['Content-Type', 'application/json'],
          ['Authorization', `Bearer ${c.token}`],
          ['Content-Length', '999999999'],
        ],
        c.event(),
      ),
    status: 413,
    code: 'payload_too_large',
  },
  {
    category: 'content_length',
    name: 'Content-Length shorter than the body (the rest is a second, pipelined request)',
    request: (c) =>
      httpBytes(
        'POST',
        '/events',
        [
          ['Content-Type', 'application/json'],
          ['Authorization', `Bearer ${c.token}`],
          ['Content-Length', '20'],
        ],
        `${c.event().slice(0, 20)}GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
        { keepAlive: true },
      ),
    status: 400,
    code: 'invalid_json',
  },
  {
    category: 'content_length',
    name: 'Content-Length not a number',
    request: (c) =>
      httpBytes(
        'POST',
        '/events',
        [
          ['Content-Type', 'application/json'],
          ['Authorization', `Bearer ${c.token}`],
          ['Content-Length', 'abc'],
        ],
        c.event(),
      ),
    status: 400,
  },
  {
    category: 'content_length',
    name: 'negative Content-Length',
    request: (c) =>
      httpBytes(
        'POST',
        '/events',
        [
          ['Content-Type', 'application/json'],
          ['Authorization', `Bearer ${c.token}`],
          ['Content-Length', '-1'],
        ],
        c.event(),
      ),
    status: 400,
  },
  {
    category: 'content_length',
    name: 'two different Content-Length headers',
    request: (c) => json(c, c.event(), [['Content-Length', '5']]),
    status: 400,
  },
  {
    category: 'content_length',
    name: 'Content-Length and Transfer-Encoding: chunked together (smuggling)',
    request: (c) =>
      httpBytes(
        'POST',
        '/events',
        [
          ['Content-Type', 'application/json'],
          ['Authorization', `Bearer ${c.token}`],
          ['Content-Length', '4'],
          ['Transfer-Encoding', 'chunked'],
        ],
        chunked(Buffer.from(c.event())),
      ),
    status: 400,
  },
  {
    category: 'content_length',
    name: 'chunked body over the 5 MiB limit (no Content-Length)',
    request: (c) =>
      httpBytes(
        'POST',
        '/events',
        [
          ['Content-Type', 'application/json'],
          ['Authorization', `Bearer ${c.token}`],
          ['Transfer-Encoding', 'chunked'],
        ],
        chunked(Buffer.from(`{"pad":"${'x'.repeat(6 * 1024 * 1024)}"}`)),
      ),
    status: 413,
    code: 'payload_too_large',
  },
  {
    category: 'content_length',
    name: 'Transfer-Encoding other than chunked',
    request: (c) =>
      httpBytes(
        'POST',
        '/events',
        [
          ['Content-Type', 'application/json'],
          ['Authorization', `Bearer ${c.token}`],
          ['Transfer-Encoding', 'gzip'],
        ],
        c.event(),
      ),
    status: 400,
  },
];

function chunked(body: Buffer, size = 64 * 1024): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const chunk = body.subarray(i, i + size);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

const tally = new Tally('raw HTTP (ingest-api on a real port)');
let ctx: IngestContext;
let server: RunningServer;
let rc: RawContext;

beforeAll(async () => {
  ctx = await ingestContext();
  server = await startServer(ctx.app.app.fetch, { port: 0, host: '127.0.0.1' });
  rc = {
    token: ctx.writer,
    victimToken: await ctx.issue(ctx.victim, ['events:write']),
    event: () => ctx.eventText(),
  };
});
afterAll(async () => {
  tally.print();
  await server?.close();
  await ctx?.close();
});

/** A valid event over a real socket: the server still answers after a hostile request. */
async function probe(label: string) {
  const event = ctx.eventText();
  const res = await rawRequest(server.port, json(rc, event));
  expect(res.status, `probe after ${label}: ${res.body}`).toBe(202);
  ctx.recordProbe((JSON.parse(res.body) as { event_ids: string[] }).event_ids[0]!);
}

describe('raw-byte requests: 4xx (JSON from the app, or a bare 4xx from Node’s HTTP parser), nothing written', () => {
  it.each(cases.map((c) => [`${c.category}: ${c.name}`, c] as const))('%s', async (label, c) => {
    tally.add(c.category);
    const res = await rawRequest(server.port, c.request(rc));
    if (c.code !== undefined) {
      expectErrorBody(label, res.status, res.headers['content-type'] ?? null, res.body, c);
    } else {
      // Node's parser refuses these before any route runs: a bare 4xx and a closed connection.
      expect(res.status, `${label}: ${res.body}`).toBe(c.status);
      expect(res.headers.connection, label).toBe('close');
    }
    await probe(label);
  });

  it('the topic holds only the probes', async () => {
    await ctx.expectOnlyProbes();
  });
});
