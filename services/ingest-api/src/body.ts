import { ApiError } from '@audit/http';
import { parseJson } from '@audit/schema';

export type BodyFormat = 'json' | 'ndjson';

export interface BodyLimits {
  json: { maxEvents: number; maxBytes: number };
  ndjson: { maxEvents: number; maxBytes: number };
}

/** One item of a request body, with the NDJSON line it came from (1-based) when there is one. */
export interface BodyItem {
  value: unknown;
  line?: number;
}

/**
 * Maps a Content-Type header to the body format. JSON may say `charset=utf-8` (any case); any
 * other charset is refused rather than decoded wrongly.
 */
export function bodyFormat(contentType: string | undefined): BodyFormat {
  const [mediaType = '', ...params] = (contentType ?? '').split(';').map((s) => s.trim().toLowerCase());
  const format: BodyFormat | undefined =
    mediaType === 'application/json' ? 'json' : mediaType === 'application/x-ndjson' ? 'ndjson' : undefined;
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (!format || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      'Content-Type must be application/json or application/x-ndjson (UTF-8)',
    );
  }
  return format;
}

/**
 * Only identity-coded bodies are read. A coding we do not apply must be refused (RFC 9110
 * §15.5.16), or an intermediary and this service disagree about what was sent.
 */
export function checkContentEncoding(contentEncoding: string | undefined): void {
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity');
  if (codings.length > 0) {
    const named = codings.join(', ');
    const shown = named.length > 64 ? `${named.slice(0, 64)}…` : named;
    throw new ApiError(
      415,
      'unsupported_media_type',
      `Content-Encoding "${shown}" is not supported; send the body uncompressed (identity)`,
    );
  }
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'payload_too_large', `request body exceeds ${maxBytes} bytes`);
}

/**
 * Reads a body stream into memory, failing with 413 as soon as it passes `maxBytes`, so a
 * chunked or lying request never makes us buffer more than the limit.
 */
export async function readBodyCapped(
  body: ReadableStream<Uint8Array> | null,
  contentLength: string | undefined,
  maxBytes: number,
): Promise<Buffer> {
  if (contentLength !== undefined && Number(contentLength) > maxBytes) throw tooLarge(maxBytes);
  if (!body) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ApiError(400, 'invalid_utf8', 'request body is not valid UTF-8');
  }
}

function emptyBody(): ApiError {
  return new ApiError(400, 'empty_body', 'request body contains no events');
}

function tooManyEvents(max: number): ApiError {
  return new ApiError(413, 'too_many_events', `request carries more than ${max} events`);
}

/**
 * Turns decoded text into body items: a JSON object (one event), a JSON array (a batch) or
 * NDJSON (one event per non-blank line). Syntax errors name the position (JSON) or the line
 * (NDJSON).
 */
export function parseBody(text: string, format: BodyFormat, limits: BodyLimits): BodyItem[] {
  return format === 'json' ? parseJsonBody(text, limits.json.maxEvents) : parseNdjson(text, limits);
}

function parseJsonBody(text: string, maxEvents: number): BodyItem[] {
  if (text.trim() === '') throw emptyBody();
  const parsed = parseJson(text);
  if (!parsed.ok) {
    throw new ApiError(400, 'invalid_json', `malformed JSON: ${parsed.message}`, {
      ...(parsed.position === undefined ? {} : { position: parsed.position }),
    });
  }
  const { value } = parsed;
  if (!Array.isArray(value)) return [{ value }];
  if (value.length === 0) throw emptyBody();
  if (value.length > maxEvents) throw tooManyEvents(maxEvents);
  return value.map((v) => ({ value: v }));
}

function parseNdjson(text: string, limits: BodyLimits): BodyItem[] {
  const items: BodyItem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    if (items.length === limits.ndjson.maxEvents) throw tooManyEvents(limits.ndjson.maxEvents);
    const parsed = parseJson(line);
    if (!parsed.ok) {
      throw new ApiError(400, 'invalid_json', `malformed JSON on line ${i + 1}: ${parsed.message}`, {
        line: i + 1,
        ...(parsed.position === undefined ? {} : { position: parsed.position }),
      });
    }
    items.push({ value: parsed.value, line: i + 1 });
  }
  if (items.length === 0) throw emptyBody();
  return items;
}
