import type { AuditEvent } from '@audit/schema';
import { checkAuditEvent, decodeBody, isJsonType, isObject, type Problem, parseJson } from './check.ts';
import { type FaultSwitch, type ReceivedRequest, type Reply, startFaultyServer } from './faults.ts';
import { Ledger, type ReceivedRecords } from './ledger.ts';

/**
 * Datadog's logs intake v2 (`POST /api/v2/logs`) as documented: `DD-API-KEY`, a JSON array of
 * at most 1000 entries, at most 5 MB uncompressed (gzip allowed), 202 `{}` on success, 400 for a
 * malformed payload, 401 without a key, 403 with a wrong one, 413 over the limits.
 * Stricter than Datadog on an entry over 1 MB: Datadog truncates it and still answers 2xx, which
 * for an audit trail is a lost event, so this answers 413.
 * Limits are decimal (5 MB = 5,000,000 bytes): a sender within them is within Datadog's either way.
 */
export interface DatadogReceiver {
  /** Base URL: the stream's URL is `${url}/api/v2/logs`. */
  url: string;
  faults: FaultSwitch;
  records(): ReceivedRecords;
  close(): Promise<void>;
}

export const DATADOG_LIMITS = { entries: 1000, payloadBytes: 5_000_000, entryBytes: 1_000_000 } as const;

const PATH = '/api/v2/logs';

type DatadogProblem = Problem & { status: number };

export async function startDatadogReceiver(options: { apiKey: string }): Promise<DatadogReceiver> {
  const ledger = new Ledger();

  const check = (req: ReceivedRequest): AuditEvent[] | DatadogProblem => {
    if (req.path.split('?')[0] !== PATH) return { status: 404, reason: 'wrongPath', detail: req.path };
    if (req.method !== 'POST') return { status: 405, reason: 'wrongMethod', detail: req.method };
    const key = req.headers['dd-api-key'];
    if (!key) return { status: 401, reason: 'missingApiKey', detail: 'no DD-API-KEY header' };
    if (key !== options.apiKey) return { status: 403, reason: 'badApiKey', detail: 'unknown API key' };
    if (!isJsonType(req.headers['content-type']))
      return { status: 400, reason: 'badContentType', detail: `content-type ${req.headers['content-type']}` };
    const body = decodeBody(req, DATADOG_LIMITS.payloadBytes);
    if (!Buffer.isBuffer(body)) return { ...body, status: body.reason === 'tooLarge' ? 413 : 400 };
    return parseEntries(body.toString('utf8'));
  };

  const handle = (req: ReceivedRequest): Reply => {
    const result = check(req);
    if (!Array.isArray(result)) {
      ledger.reject(result.reason, result.detail);
      return {
        status: result.status,
        body: { errors: [{ status: String(result.status), title: result.reason, detail: result.detail }] },
      };
    }
    ledger.accept(result);
    return { status: 202, body: {} };
  };

  // Read past the payload limit so a gzip body that inflates beyond it is measured, not cut.
  const server = await startFaultyServer(handle, { maxBodyBytes: 4 * DATADOG_LIMITS.payloadBytes });
  return {
    url: server.url,
    faults: server.faults,
    records: () => ledger.records(),
    close: () => server.close(),
  };
}

/** `[{ddsource, ddtags, hostname, service, message: "<event JSON>"}, …]`, or the first problem. */
function parseEntries(text: string): AuditEvent[] | DatadogProblem {
  const json = parseJson(text);
  if ('error' in json) return { status: 400, reason: 'badJson', detail: json.error };
  const entries = json.value;
  if (!Array.isArray(entries))
    return { status: 400, reason: 'notArray', detail: 'the body is not a JSON array' };
  if (entries.length === 0) return { status: 400, reason: 'badEntry', detail: 'empty array' };
  if (entries.length > DATADOG_LIMITS.entries)
    return { status: 413, reason: 'tooManyEntries', detail: `${entries.length} entries` };
  const events: AuditEvent[] = [];
  for (const [i, entry] of entries.entries()) {
    const bad = (detail: string, reason = 'badEntry'): DatadogProblem => ({
      status: 400,
      reason,
      detail: `entry ${i}: ${detail}`,
    });
    const size = Buffer.byteLength(JSON.stringify(entry));
    if (size > DATADOG_LIMITS.entryBytes) return { ...bad(`${size} bytes`, 'entryTooLarge'), status: 413 };
    if (!isObject(entry)) return bad('not a JSON object');
    for (const key of ['ddsource', 'ddtags', 'hostname', 'service', 'message'])
      if (typeof entry[key] !== 'string' || entry[key] === '') return bad(`${key} is not a non-empty string`);
    const message = parseJson(entry.message as string);
    if ('error' in message) return bad(`message is not JSON: ${message.error}`);
    const event = checkAuditEvent(message.value);
    if (typeof event === 'string') return bad(`message: ${event}`);
    const tags = parseTags(entry.ddtags as string);
    if (typeof tags === 'string') return bad(tags);
    if (!tags.get('tenant_id')?.includes(event.tenant_id))
      return bad(`ddtags has no tenant_id:${event.tenant_id}`, 'tenantTagMismatch');
    if (tags.get('tenant_id')!.length > 1)
      return bad('ddtags has more than one tenant_id', 'tenantTagMismatch');
    events.push(event);
  }
  return events;
}

/** "k:v,k:v" as key → values; a tag without a key (or an empty one) is malformed. */
function parseTags(ddtags: string): Map<string, string[]> | string {
  const tags = new Map<string, string[]>();
  for (const tag of ddtags.split(',')) {
    const colon = tag.indexOf(':');
    if (colon <= 0) return `ddtags has "${tag}", not key:value`;
    const key = tag.slice(0, colon);
    tags.set(key, [...(tags.get(key) ?? []), tag.slice(colon + 1)]);
  }
  return tags;
}
