import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditEvent } from '@audit/schema';
import { type SelfSignedCert, selfSignedCert } from './cert.ts';
import { checkAuditEvent, isJsonType, isObject, type Problem, parseJson } from './check.ts';
import { type FaultSwitch, type ReceivedRequest, type Reply, startFaultyServer } from './faults.ts';
import { Ledger, type ReceivedRecords } from './ledger.ts';

/**
 * An HTTPS endpoint that verifies Standard Webhooks v1 (standardwebhooks.com) as a consumer's
 * library would: HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<raw body>" with the
 * base64-decoded secret after `whsec_`, any listed `v1,` signature matching any configured
 * secret (rotation), a timestamp within the tolerance, and the audit.events body.
 */
export interface WebhookReceiver {
  url: string;
  /** PEM the streamer must trust: the receiver's self-signed certificate. */
  ca: string;
  faults: FaultSwitch;
  /** Replaces the accepted secrets, e.g. to finish a rotation (the old one stops verifying). */
  setSecrets(secrets: string[]): void;
  records(): WebhookRecords;
  close(): Promise<void>;
}

export interface WebhookRecords extends ReceivedRecords {
  /** webhook-id → requests that carried it, in any fault mode: a retried batch keeps its id. */
  webhookIds(): Map<string, number>;
}

export interface WebhookReceiverOptions {
  secrets: string[];
  /** Standard Webhooks' recommended replay window. */
  toleranceSeconds?: number;
}

/** Events are at most 64 KiB and batches bounded; far more than a streamer should send at once. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const tolerance = options.toleranceSeconds ?? 300;
  let keys = options.secrets.map(secretKey);
  const ledger = new Ledger();
  const cert: SelfSignedCert = selfSignedCert('webhook-receiver');
  const reject = (status: number, reason: string, detail: string): Reply => {
    ledger.reject(reason, detail);
    return { status, body: { error: reason, detail } };
  };

  const handle = (req: ReceivedRequest): Reply => {
    if (req.method !== 'POST') return reject(405, 'wrongMethod', `${req.method} is not POST`);
    if (!isJsonType(req.headers['content-type']))
      return reject(415, 'badContentType', `content-type ${req.headers['content-type']}`);
    if (req.tooLarge) return reject(413, 'tooLarge', `body over ${MAX_BODY_BYTES} bytes`);
    const id = header(req, 'webhook-id');
    const timestamp = header(req, 'webhook-timestamp');
    const signature = header(req, 'webhook-signature');
    if (!id || !timestamp || !signature)
      return reject(
        400,
        'missingHeaders',
        'webhook-id, webhook-timestamp and webhook-signature are required',
      );
    if (!/^\d+$/.test(timestamp)) return reject(400, 'badTimestamp', `webhook-timestamp ${timestamp}`);
    const skew = Math.abs(Date.now() / 1000 - Number(timestamp));
    if (skew > tolerance)
      return reject(401, 'staleTimestamp', `webhook-timestamp is ${Math.round(skew)} s off`);
    if (!verifies(keys, `${id}.${timestamp}.`, req.body, signature))
      return reject(401, 'badSignature', `no signature in "${signature}" matches a configured secret`);
    const parsed = parseBody(req.body.toString('utf8'));
    if (!Array.isArray(parsed)) return reject(400, parsed.reason, parsed.detail);
    ledger.accept(parsed);
    return { status: 204 };
  };

  const server = await startFaultyServer(handle, { tls: cert, maxBodyBytes: MAX_BODY_BYTES });
  return {
    url: server.url,
    ca: cert.ca,
    faults: server.faults,
    setSecrets: (secrets) => {
      keys = secrets.map(secretKey);
    },
    records: () => {
      const ids = new Map<string, number>();
      for (const a of server.faults.arrivals()) {
        const id = a.headers['webhook-id'];
        if (typeof id === 'string') ids.set(id, (ids.get(id) ?? 0) + 1);
      }
      return { ...ledger.records(), webhookIds: () => new Map(ids) };
    },
    close: async () => {
      await server.close();
      cert.remove();
    },
  };
}

/** The HMAC key of a `whsec_<base64>` secret; a secret of another form is a bug in the test. */
function secretKey(secret: string): Buffer {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!m) throw new Error('a Standard Webhooks secret is whsec_ followed by base64');
  return Buffer.from(m[1]!, 'base64');
}

/** Any `v1,<base64>` entry of the space-separated header against any key; other versions are skipped. */
function verifies(keys: Buffer[], prefix: string, body: Buffer, header: string): boolean {
  const given = header
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  return keys.some((key) => {
    const expected = createHmac('sha256', key).update(prefix).update(body).digest();
    return given.some((g) => g.length === expected.length && timingSafeEqual(g, expected));
  });
}

/** `{"type":"audit.events","timestamp":ISO,"data":{stream_id,tenant_id,events:[…]}}`, or why not. */
function parseBody(text: string): AuditEvent[] | Problem {
  const bad = (detail: string): Problem => ({ reason: 'badBody', detail });
  const json = parseJson(text);
  if ('error' in json) return bad(`not JSON: ${json.error}`);
  const body = json.value;
  if (!isObject(body)) return bad('the body is not a JSON object');
  if (body.type !== 'audit.events') return bad(`type is ${JSON.stringify(body.type)}, not "audit.events"`);
  if (typeof body.timestamp !== 'string' || !Number.isFinite(Date.parse(body.timestamp)))
    return bad('timestamp is not an ISO time');
  const data = body.data;
  if (!isObject(data)) return bad('data is not an object');
  if (typeof data.stream_id !== 'string' || data.stream_id === '') return bad('data.stream_id is missing');
  if (typeof data.tenant_id !== 'string' || data.tenant_id === '') return bad('data.tenant_id is missing');
  if (!Array.isArray(data.events) || data.events.length === 0)
    return bad('data.events is not a non-empty array');
  const events: AuditEvent[] = [];
  for (const [i, value] of data.events.entries()) {
    const event = checkAuditEvent(value);
    if (typeof event === 'string') return bad(`data.events[${i}]: ${event}`);
    if (event.tenant_id !== data.tenant_id)
      return {
        reason: 'crossTenant',
        detail: `data.events[${i}] belongs to tenant ${event.tenant_id}, the batch to ${data.tenant_id}`,
      };
    events.push(event);
  }
  return events;
}

function header(req: ReceivedRequest, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
