import { gunzipSync } from 'node:zlib';
import type { AuditEvent } from '@audit/schema';
import type { ReceivedRequest } from './faults.ts';

/**
 * The receivers' own check of an audit event as a destination gets it: written from the
 * product's event contract, not from the streamer's code, so a streamer that drops or renames a
 * field is caught here. Returns the event, or why it is not one.
 */
export function checkAuditEvent(value: unknown): AuditEvent | string {
  if (!isObject(value)) return 'the event is not a JSON object';
  const { event_id, tenant_id, event_type, timestamp, event_details } = value;
  if (typeof event_id !== 'string' || !UUID.test(event_id)) return 'event_id is not a UUID';
  if (typeof tenant_id !== 'string' || tenant_id === '') return 'tenant_id is missing';
  if (typeof event_type !== 'string' || event_type === '') return 'event_type is missing';
  if (typeof timestamp !== 'string' || !RFC3339.test(timestamp) || !Number.isFinite(Date.parse(timestamp)))
    return 'timestamp is not an RFC 3339 time';
  if (!isObject(event_details)) return 'event_details is not an object';
  return value as unknown as AuditEvent;
}

/** Why a receiver refused something: `reason` is the key counted in `rejected`. */
export interface Problem {
  reason: string;
  detail: string;
}

export function isJsonType(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON.parse that says why instead of throwing: a receiver answers bad input, it never crashes. */
export function parseJson(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The request body as sent before compression (`content-encoding: gzip` or none), at most
 * `maxBytes` of it: a gzip bomb ends as tooLarge, not as a receiver out of memory.
 */
export function decodeBody(req: ReceivedRequest, maxBytes: number): Buffer | Problem {
  const tooLarge = { reason: 'tooLarge', detail: `body over ${maxBytes} bytes` };
  if (req.tooLarge) return tooLarge;
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (encoding === undefined || encoding === '' || encoding === 'identity')
    return req.body.length > maxBytes ? tooLarge : req.body;
  if (encoding !== 'gzip') return { reason: 'badEncoding', detail: `content-encoding ${encoding}` };
  try {
    return gunzipSync(req.body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return tooLarge;
    return { reason: 'badEncoding', detail: `not gzip: ${(err as Error).message}` };
  }
}
