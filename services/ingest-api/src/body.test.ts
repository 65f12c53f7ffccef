import { ApiError } from '@audit/http';
import { describe, expect, it } from 'vitest';
import {
  type BodyLimits,
  bodyFormat,
  checkContentEncoding,
  decodeUtf8,
  parseBody,
  readBodyCapped,
} from './body.ts';

const limits: BodyLimits = { json: { maxEvents: 3, maxBytes: 100 }, ndjson: { maxEvents: 4, maxBytes: 200 } };

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

async function apiErrorAsync(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof ApiError) return err;
  throw new Error(`expected an ApiError, got ${String(err)}`);
}

function stream(chunks: string[]): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let i = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (i < chunks.length) controller.enqueue(new TextEncoder().encode(chunks[i++]));
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return { body, pulled: () => i };
}

describe('bodyFormat', () => {
  it.each([
    ['application/json', 'json'],
    ['application/json; charset=utf-8', 'json'],
    ['Application/JSON;charset="UTF-8"', 'json'],
    ['application/x-ndjson', 'ndjson'],
  ])('%s → %s', (ct, format) => {
    expect(bodyFormat(ct)).toBe(format);
  });

  it.each([
    undefined,
    '',
    'text/plain',
    'application/xml',
    'application/json; charset=latin1',
    'multipart/form-data',
  ])('%s → 415', (ct) => {
    const err = apiError(() => bodyFormat(ct));
    expect([err.status, err.code]).toEqual([415, 'unsupported_media_type']);
  });
});

describe('readBodyCapped', () => {
  it('reads a body within the limit', async () => {
    const { body } = stream(['{"a":', '1}']);
    expect((await readBodyCapped(body, undefined, 100)).toString()).toBe('{"a":1}');
  });

  it('accepts a body of exactly the limit', async () => {
    const { body } = stream(['x'.repeat(50), 'y'.repeat(50)]);
    expect((await readBodyCapped(body, undefined, 100)).length).toBe(100);
  });

  it('stops reading a chunked body as soon as it passes the limit', async () => {
    const { body, pulled } = stream(['x'.repeat(60), 'y'.repeat(60), 'z'.repeat(60), 'w'.repeat(60)]);
    const err = await apiErrorAsync(readBodyCapped(body, undefined, 100));
    expect([err.status, err.code]).toEqual([413, 'payload_too_large']);
    expect(pulled()).toBe(2);
  });

  it('refuses a declared Content-Length above the limit without reading', async () => {
    const { body, pulled } = stream(['x']);
    const err = await apiErrorAsync(readBodyCapped(body, '101', 100));
    expect(err.status).toBe(413);
    expect(pulled()).toBe(0);
  });

  it('returns an empty buffer for no body', async () => {
    expect((await readBodyCapped(null, undefined, 100)).length).toBe(0);
  });
});

describe('decodeUtf8', () => {
  it('decodes UTF-8', () => {
    expect(decodeUtf8(Buffer.from('{"name":"Zoë ✓"}'))).toBe('{"name":"Zoë ✓"}');
  });

  it('rejects invalid UTF-8 with 400', () => {
    const err = apiError(() => decodeUtf8(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
    expect([err.status, err.code]).toEqual([400, 'invalid_utf8']);
  });

  it('rejects a truncated multi-byte sequence', () => {
    expect(apiError(() => decodeUtf8(Buffer.from([0x22, 0xe2, 0x9c]))).code).toBe('invalid_utf8');
  });
});

describe('parseBody (json)', () => {
  it('wraps one object as one item', () => {
    expect(parseBody('{"a":1}', 'json', limits)).toEqual([{ value: { a: 1 } }]);
  });

  it('returns each array element as an item', () => {
    expect(parseBody('[{"a":1},{"a":2}]', 'json', limits)).toEqual([
      { value: { a: 1 } },
      { value: { a: 2 } },
    ]);
  });

  it('passes non-objects on to validation', () => {
    expect(parseBody('[1]', 'json', limits)).toEqual([{ value: 1 }]);
  });

  it.each(['', '  \n', '[]'])('%j → 400 empty_body', (text) => {
    const err = apiError(() => parseBody(text, 'json', limits));
    expect([err.status, err.code]).toEqual([400, 'empty_body']);
  });

  it('reports malformed JSON with a position', () => {
    const err = apiError(() => parseBody('{"a":1,}', 'json', limits));
    expect([err.status, err.code]).toEqual([400, 'invalid_json']);
    expect(err.details).toEqual({ position: expect.any(Number) });
  });

  it('refuses more events than the limit with 413', () => {
    const err = apiError(() => parseBody('[{},{},{},{}]', 'json', limits));
    expect([err.status, err.code]).toEqual([413, 'too_many_events']);
  });

  it('accepts exactly the limit', () => {
    expect(parseBody('[{},{},{}]', 'json', limits)).toHaveLength(3);
  });
});

describe('parseBody (ndjson)', () => {
  it('returns one item per non-blank line with its line number', () => {
    expect(parseBody('{"a":1}\r\n\n  \n{"a":2}\n', 'ndjson', limits)).toEqual([
      { value: { a: 1 }, line: 1 },
      { value: { a: 2 }, line: 4 },
    ]);
  });

  it('names the line of malformed JSON', () => {
    const err = apiError(() => parseBody('{"a":1}\n\n{"a":\n', 'ndjson', limits));
    expect([err.status, err.code]).toEqual([400, 'invalid_json']);
    expect(err.details).toMatchObject({ line: 3 });
    expect(err.message).toContain('line 3');
  });

  it('treats an array on a line as one (invalid) item, not a batch', () => {
    expect(parseBody('[{"a":1}]', 'ndjson', limits)).toEqual([{ value: [{ a: 1 }], line: 1 }]);
  });

  it('refuses an empty body', () => {
    expect(apiError(() => parseBody('\n\n', 'ndjson', limits)).code).toBe('empty_body');
  });

  it('refuses more lines than the limit with 413', () => {
    const err = apiError(() => parseBody('{}\n{}\n{}\n{}\n{}\n', 'ndjson', limits));
    expect([err.status, err.code]).toEqual([413, 'too_many_events']);
  });
});

describe('checkContentEncoding', () => {
  it('accepts no coding, an empty header and identity (any case)', () => {
    for (const v of [undefined, '', ' ', 'identity', 'IDENTITY', ' identity , identity ']) {
      expect(() => checkContentEncoding(v)).not.toThrow();
    }
  });

  it('refuses any other coding with 415 unsupported_media_type naming it', () => {
    for (const [v, named] of [
      ['gzip', 'gzip'],
      ['br', 'br'],
      ['Deflate', 'deflate'],
      ['identity, gzip', 'gzip'],
      ['gzip, br', 'gzip, br'],
    ] as const) {
      const e = apiError(() => checkContentEncoding(v));
      expect(e.status).toBe(415);
      expect(e.code).toBe('unsupported_media_type');
      expect(e.message).toBe(
        `Content-Encoding "${named}" is not supported; send the body uncompressed (identity)`,
      );
    }
  });
});
