import { X509Certificate } from 'node:crypto';
import { z } from 'zod';

/**
 * Where a stream delivers (docs/streams.md). What a tenant sends to create one (`*Input`), what
 * is stored and shown (`PublicDestination`: no secret), and what is sealed (`DestinationSecrets`).
 */
export const DESTINATION_TYPES = ['webhook', 'splunk', 'datadog', 'syslog'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

export const DATADOG_DEFAULT_URL = 'https://http-intake.logs.datadoghq.com/api/v2/logs';
/** IANA's example Private Enterprise Number (RFC 5612): set your own `sd_id` in production. */
export const DEFAULT_SD_ID = 'audit@32473';

const MAX_URL = 2048;
const MAX_CA = 64 * 1024;
/** HEC tokens are UUIDs and Datadog keys 32 hex characters; anything far longer is a mistake. */
const MAX_TOKEN = 512;

const httpUrl = z
  .string()
  .max(MAX_URL)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.username === '' && u.password === '';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without credentials in it');

/** Extra trusted CA certificates (PEM) for a destination with a private CA. */
const PEM_BLOCK_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every block parses as an X.509 certificate: a bad CA is refused here, not at each connection. */
function isPemCertificates(text: string): boolean {
  const blocks = text.match(PEM_BLOCK_RE) ?? [];
  if (blocks.length === 0) return false;
  try {
    for (const b of blocks) new X509Certificate(b);
    return true;
  } catch {
    return false;
  }
}

const ca = z.string().max(MAX_CA).refine(isPemCertificates, 'must be PEM certificates').optional();

const hostname = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:_-]+$/, 'must be a host name or an IP address');

/** RFC 5424 PRINTUSASCII tokens (APP-NAME ≤ 48, SD-ID ≤ 32, HOSTNAME ≤ 255, no space, `=`, `]`, `"`). */
const printAscii = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[!-~]+$/, 'must be printable ASCII without spaces');
const sdName = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[!#-<>-\\^-~]+$/, 'must be printable ASCII without space, =, ], "');

export const webhookInput = z.object({ type: z.literal('webhook'), url: httpUrl, ca }).strict();

export const splunkInput = z
  .object({
    type: z.literal('splunk'),
    /** The HEC endpoint, e.g. https://splunk.example.com:8088/services/collector/event. */
    url: httpUrl,
    token: z.string().min(1).max(MAX_TOKEN),
    index: z.string().min(1).max(80).optional(),
    source: z.string().min(1).max(256).optional(),
    sourcetype: z.string().min(1).max(256).optional(),
    ca,
  })
  .strict();

export const datadogInput = z
  .object({
    type: z.literal('datadog'),
    /** The logs intake of your Datadog site (e.g. https://http-intake.logs.datadoghq.eu/api/v2/logs). */
    url: httpUrl.default(DATADOG_DEFAULT_URL),
    api_key: z.string().min(1).max(MAX_TOKEN),
    service: z.string().min(1).max(100).default('audit-log'),
    /** Extra `key:value` tags, comma-separated, added to tenant_id/event_type/stream_id. */
    tags: z.string().max(1024).optional(),
    ca,
  })
  .strict();

export const syslogInput = z
  .object({
    type: z.literal('syslog'),
    host: hostname,
    port: z.number().int().min(1).max(65535).default(6514),
    /** RFC 5425 TLS. Plain TCP (RFC 6587) only where the operator allows it (STREAMS_ALLOW_PLAINTEXT). */
    tls: z.boolean().default(true),
    /** Name checked against the server's certificate when `host` is an IP address. */
    server_name: hostname.optional(),
    app_name: printAscii(48).default('audit-log'),
    sd_id: sdName(32).default(DEFAULT_SD_ID),
    ca,
  })
  .strict();

export const destinationInput = z.discriminatedUnion('type', [
  webhookInput,
  splunkInput,
  datadogInput,
  syslogInput,
]);
export type DestinationInput = z.infer<typeof destinationInput>;

/** A webhook signing secret; `until` (epoch ms) for a rotated-out one still signed with. */
export interface SigningSecret {
  secret: string;
  until?: number;
}

/** Everything sealed (secrets.ts): never stored or returned in the clear. */
export interface DestinationSecrets {
  /** Webhook: newest first. */
  signing?: SigningSecret[];
  token?: string;
  api_key?: string;
  /**
   * A webhook secret rotation: the previous sealed box (the API cannot open it) and until when
   * its signing secrets still sign (epoch ms).
   */
  previous?: { box: string; until: number };
}

type Strip<T, K extends string> = Omit<T, K>;
export type PublicDestination =
  | z.infer<typeof webhookInput>
  | Strip<z.infer<typeof splunkInput>, 'token'>
  | Strip<z.infer<typeof datadogInput>, 'api_key'>
  | z.infer<typeof syslogInput>;

/** A destination as sent, split into what is shown and what is sealed. */
export function splitDestination(
  input: DestinationInput,
  newSigningSecret: () => string,
): { destination: PublicDestination; secrets: DestinationSecrets } {
  switch (input.type) {
    case 'webhook':
      return { destination: input, secrets: { signing: [{ secret: newSigningSecret() }] } };
    case 'splunk': {
      const { token, ...destination } = input;
      return { destination, secrets: { token } };
    }
    case 'datadog': {
      const { api_key, ...destination } = input;
      return { destination, secrets: { api_key } };
    }
    case 'syslog':
      return { destination: input, secrets: {} };
  }
}

/** Standard Webhooks secrets: `whsec_` + base64 of 24 to 64 random bytes. */
export const SIGNING_SECRET_RE = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;

export const BATCH_LIMITS = {
  maxEvents: { min: 1, max: 1000, default: 500 },
  maxBytes: { min: 1024, max: 4 * 1024 * 1024, default: 1024 * 1024 },
  maxWaitMs: { min: 50, max: 60_000, default: 1000 },
} as const;

export const batchInput = z
  .object({
    /** Events per request (Datadog takes at most 1000 per request). */
    max_events: z
      .number()
      .int()
      .min(BATCH_LIMITS.maxEvents.min)
      .max(BATCH_LIMITS.maxEvents.max)
      .default(BATCH_LIMITS.maxEvents.default),
    /** Bytes of events per request, about. */
    max_bytes: z
      .number()
      .int()
      .min(BATCH_LIMITS.maxBytes.min)
      .max(BATCH_LIMITS.maxBytes.max)
      .default(BATCH_LIMITS.maxBytes.default),
    /** How long the first event of a batch may wait for others under a trickle. */
    max_wait_ms: z
      .number()
      .int()
      .min(BATCH_LIMITS.maxWaitMs.min)
      .max(BATCH_LIMITS.maxWaitMs.max)
      .default(BATCH_LIMITS.maxWaitMs.default),
  })
  .strict();
export type BatchSettings = z.infer<typeof batchInput>;
