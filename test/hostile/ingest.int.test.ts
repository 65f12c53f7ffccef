import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ErrorBody, expectError, expectPrototypeClean, readCases, Tally } from './harness.ts';
import { computedIngestCases } from './ingest-computed.ts';
import { type IngestContext, ingestContext } from './ingest-context.ts';

/** One line of fixtures/ingest-bodies.ndjson (keys documented in fixtures/README.md). */
interface FixtureCase {
  category: string;
  name: string;
  status: number;
  code: string;
  contentType?: string;
  path?: string;
  method?: string;
  target?: string;
  raw?: string;
  event?: Record<string, unknown>;
  omit?: string[];
  members?: string;
  details?: string;
}

interface Case {
  category: string;
  name: string;
  status: number;
  code: string;
  contentType?: string;
  path?: string;
  method?: string;
  target?: string;
  body(ctx: IngestContext): string;
}

function fromFixture(f: FixtureCase): Case {
  return {
    ...f,
    body(ctx) {
      if (f.raw !== undefined) return f.raw;
      if (f.event !== undefined || f.omit !== undefined) {
        const base = JSON.parse(ctx.eventText()) as Record<string, unknown>;
        for (const k of f.omit ?? []) delete base[k];
        return JSON.stringify({ ...base, ...f.event });
      }
      return ctx.eventText({ members: f.members, details: f.details });
    },
  };
}

const cases: Case[] = [
  ...readCases<FixtureCase>('ingest-bodies.ndjson').map(fromFixture),
  ...computedIngestCases.map(
    (c): Case => ({
      ...c,
      body: (ctx) => c.body({ self: ctx.tenant, victim: ctx.victim, event: (o) => ctx.eventText(o) }),
    }),
  ),
];

/** Every issue path of a validation_failed body (single events and batches alike). */
function issuePaths(body: ErrorBody): string[] {
  const items = (body.error.details ?? []) as { issues?: { path: string }[] }[];
  return items.flatMap((i) => (i.issues ?? []).map((x) => x.path));
}

const tally = new Tally('ingest bodies (POST /events)');
let ctx: IngestContext;

beforeAll(async () => {
  ctx = await ingestContext();
});
afterAll(async () => {
  tally.print();
  await ctx?.close();
});

async function send(c: Case): Promise<Response> {
  const headers: Record<string, string> =
    c.contentType === undefined ? {} : { 'content-type': c.contentType };
  if (c.method === undefined && c.target === undefined) return ctx.post(c.body(ctx), headers);
  const method = c.method ?? 'POST';
  return ctx.app.app.request(c.target ?? '/events', {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.writer}`, ...headers },
    ...(method === 'GET' ? {} : { body: Buffer.from(c.body(ctx)) }),
  });
}

describe('hostile POST /events bodies: 4xx JSON error, nothing written, service keeps answering', () => {
  it.each(cases.map((c) => [`${c.category}: ${c.name}`, c] as const))('%s', async (label, c) => {
    tally.add(c.category);
    const body = await expectError(label, await send(c), { status: c.status, code: c.code });
    if (c.path !== undefined) {
      const paths = issuePaths(body);
      expect(
        paths.some((p) => p === c.path || p.startsWith(`${c.path}.`)),
        `${label}: ${JSON.stringify(paths)}`,
      ).toBe(true);
      expect(body.error.message, label).toContain(c.path.split('.')[0]);
    }
    expectPrototypeClean();
    await ctx.probe(label);
  });
});

/**
 * H-1 (fixed in ingest-api src/body.ts `checkContentEncoding`): Content-Encoding used to be
 * ignored, so a plain body with a false `Content-Encoding: gzip` was stored (202) and a
 * genuinely gzipped body got 400 invalid_utf8. RFC 9110 §8.4.1: a coding the server does not
 * apply must be refused with 415, or an intermediary and the service disagree about what was sent.
 */
describe('Content-Encoding (H-1)', () => {
  const encoded: [string, () => Buffer | string, string][] = [
    ['plain JSON labelled Content-Encoding: gzip', () => ctx.eventText(), 'gzip'],
    ['plain JSON labelled Content-Encoding: br', () => ctx.eventText(), 'br'],
    ['a gzipped body (coding not supported)', () => gzipSync(ctx.eventText()), 'gzip'],
  ];
  it.each(encoded)('content_encoding: %s → 415', async (name, body, coding) => {
    tally.add('content_encoding (H-1)');
    const res = await ctx.post(body(), { 'content-encoding': coding });
    const err = await expectError(name, res, { status: 415, code: 'unsupported_media_type' });
    expect(err.error.message, name).toContain(`"${coding}"`);
    await ctx.probe(name);
  });
});

describe('nothing written', () => {
  it('the topic holds only the probes', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(180);
    await ctx.expectOnlyProbes();
  });
});
