import type { AuditEvent } from '@audit/schema';
import { type SelfSignedCert, selfSignedCert } from './cert.ts';
import { checkAuditEvent, decodeBody, isObject, type Problem } from './check.ts';
import { type FaultSwitch, type ReceivedRequest, type Reply, startFaultyServer } from './faults.ts';
import { Ledger, type ReceivedRecords } from './ledger.ts';

/**
 * A Splunk HTTP Event Collector as a client sees one: `Authorization: Splunk <token>`, a body of
 * concatenated JSON event envelopes (not an array), and Splunk's own answers and codes
 * (0 Success, 2 Token is required, 3 Invalid authorization, 4 Invalid token, 5 No data,
 * 6 Invalid data format with invalid-event-number, 12/13 Event field required/blank).
 * Stricter than Splunk in one way: a batch with one bad envelope is refused whole, so the test
 * sees the bug instead of a partly indexed batch.
 */
export interface SplunkReceiver {
  /** Base URL; the collector answers on `path`. */
  url: string;
  /** Set when started with `tls: true`. */
  ca?: string;
  faults: FaultSwitch;
  records(): ReceivedRecords;
  close(): Promise<void>;
}

export interface SplunkReceiverOptions {
  token: string;
  /** Where the stream's URL points; other paths are Splunk's 404. */
  path?: string;
  tls?: boolean;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

type HecProblem = Problem & { status: number; code: number; text: string; eventNumber?: number };

export async function startSplunkReceiver(options: SplunkReceiverOptions): Promise<SplunkReceiver> {
  const path = options.path ?? '/services/collector/event';
  const ledger = new Ledger();
  const cert: SelfSignedCert | undefined = options.tls ? selfSignedCert('splunk-receiver') : undefined;

  const check = (req: ReceivedRequest): AuditEvent[] | HecProblem => {
    if (req.path.split('?')[0] !== path)
      return hec(404, 404, 'The requested URL was not found on this server.', 'wrongPath', req.path);
    if (req.method !== 'POST') return hec(405, 404, 'Method not allowed', 'wrongMethod', req.method);
    const authorization = req.headers.authorization;
    if (!authorization) return hec(401, 2, 'Token is required', 'missingToken', 'no Authorization header');
    const m = /^Splunk (\S+)$/.exec(authorization);
    if (!m) return hec(401, 3, 'Invalid authorization', 'badAuthorization', 'not "Splunk <token>"');
    if (m[1] !== options.token) return hec(403, 4, 'Invalid token', 'badToken', 'unknown token');
    const body = decodeBody(req, MAX_BODY_BYTES);
    if (!Buffer.isBuffer(body)) return { ...body, status: 400, code: 6, text: 'Invalid data format' };
    return parseEnvelopes(body.toString('utf8'));
  };

  const handle = (req: ReceivedRequest): Reply => {
    const result = check(req);
    if (!Array.isArray(result)) {
      ledger.reject(result.reason, result.detail);
      const body = { text: result.text, code: result.code };
      return {
        status: result.status,
        body:
          result.eventNumber === undefined ? body : { ...body, 'invalid-event-number': result.eventNumber },
      };
    }
    ledger.accept(result);
    return { status: 200, body: { text: 'Success', code: 0 } };
  };

  const server = await startFaultyServer(handle, {
    ...(cert ? { tls: cert } : {}),
    maxBodyBytes: MAX_BODY_BYTES,
  });
  return {
    url: server.url,
    ...(cert ? { ca: cert.ca } : {}),
    faults: server.faults,
    records: () => ledger.records(),
    close: async () => {
      await server.close();
      cert?.remove();
    },
  };
}

function hec(status: number, code: number, text: string, reason: string, detail: string): HecProblem {
  return { status, code, text, reason, detail };
}

/** Each `{time, host?, source?, sourcetype?, index?, event}` of the concatenated body, or the first bad one. */
function parseEnvelopes(text: string): AuditEvent[] | HecProblem {
  if (text.trim() === '') return hec(400, 5, 'No data', 'noData', 'empty body');
  const events: AuditEvent[] = [];
  for (const [n, item] of splitConcatenated(text).entries()) {
    const invalid = (reason: string, detail: string, code = 6, message = 'Invalid data format') => ({
      ...hec(400, code, message, reason, `envelope ${n}: ${detail}`),
      eventNumber: n,
    });
    if ('error' in item) return invalid('badFormat', item.error);
    const envelope = item.value;
    if (!isObject(envelope)) return invalid('badFormat', 'not a JSON object');
    if (!('event' in envelope)) return invalid('missingEvent', 'no event', 12, 'Event field is required');
    if (envelope.event === '' || envelope.event === null)
      return invalid('blankEvent', 'blank event', 13, 'Event field cannot be blank');
    for (const key of ['host', 'source', 'sourcetype', 'index'])
      if (key in envelope && typeof envelope[key] !== 'string')
        return invalid('badFormat', `${key} is not a string`);
    const event = checkAuditEvent(envelope.event);
    if (typeof event === 'string') return invalid('badEvent', event);
    if (typeof envelope.time !== 'number')
      return invalid('badFormat', 'time is not a number of epoch seconds');
    // Splunk indexes the envelope's time: it must be the event's own, not when the streamer sent it.
    if (Math.abs(envelope.time * 1000 - Date.parse(event.timestamp)) >= 1)
      return invalid('timeMismatch', `time ${envelope.time} is not the event's timestamp ${event.timestamp}`);
    events.push(event);
  }
  return events;
}

/**
 * Splits `{…}{…}\n{…}` into its JSON texts by tracking braces outside strings; a text that does
 * not parse (or trailing garbage) is reported at its position, as Splunk's invalid-event-number.
 */
export function splitConcatenated(text: string): ({ value: unknown } | { error: string })[] {
  const items: ({ value: unknown } | { error: string })[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    if (text[i] !== '{') {
      items.push({ error: `expected "{" at offset ${i}` });
      return items;
    }
    const end = objectEnd(text, i);
    if (end < 0) {
      items.push({ error: `unterminated object at offset ${i}` });
      return items;
    }
    try {
      items.push({ value: JSON.parse(text.slice(i, end)) });
    } catch (err) {
      items.push({ error: (err as Error).message });
      return items;
    }
    i = end;
  }
  return items;
}

/** The offset just after the object starting at `start`, or -1 when the text ends inside it. */
function objectEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
