import { z } from 'zod';
import { checkDetails, isPlainObject } from './details.ts';
import { isIpAddress } from './ip.ts';
import { EVENT_TYPE_RE, isReservedEventType, LIMITS, RESERVED_EVENT_TYPE_PREFIX, UUID_RE } from './limits.ts';
import { textProblem } from './text.ts';
import { timestampProblem } from './timestamp.ts';

export const UNKNOWN_FIELD_MESSAGE =
  'unknown field: event-specific data belongs in event_details (a typo of a known field?)';

/** Messages for a wrong type; a missing required field just "is required". */
const typeError = (expected: string) => (iss: { input?: unknown }) =>
  iss.input === undefined ? 'is required' : `must be ${expected}`;

// Checks use zod's low-level payload API: superRefine allocates a context per call, which
// dominated validation time (every event runs about a dozen of these).
type Payload<T> = z.core.ParsePayload<T>;

function cleanText(ctx: Payload<string>): void {
  const p = textProblem(ctx.value);
  if (p !== undefined) ctx.issues.push({ code: 'custom', message: p, input: ctx.value });
}

const text = (max: number, description: string) =>
  z
    .string({ error: typeError('a string') })
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .check(cleanText)
    .meta({ description });

const timestamp = (description: string) =>
  z
    .string({ error: typeError('a string') })
    .check((ctx) => {
      const p = timestampProblem(ctx.value);
      if (p !== undefined) ctx.issues.push({ code: 'custom', message: p, input: ctx.value });
    })
    .meta({ format: 'date-time', description, examples: ['2026-01-02T03:04:05Z'] });

const eventId = z
  .string({ error: typeError('a string') })
  .regex(UUID_RE, 'must be a UUID (8-4-4-4-12 hex digits), e.g. 0190f1e2-7c3a-7d4e-8f10-123456789abc')
  .meta({
    format: 'uuid',
    description:
      'Unique id of the event and its idempotency key: a resend with the same id is stored once. Any UUID version; the service generates a UUIDv7 when absent.',
  });

const eventType = z
  .string({ error: typeError('a string') })
  .max(LIMITS.MAX_EVENT_TYPE_LENGTH, `must be at most ${LIMITS.MAX_EVENT_TYPE_LENGTH} characters`)
  .regex(
    EVENT_TYPE_RE,
    'must be lower-case words of [a-z0-9_] joined by dots, starting with a letter, e.g. customer.account.created',
  )
  .meta({
    description: 'What happened, e.g. customer.account.created.',
    examples: ['customer.account.created'],
  });

/**
 * Built on z.unknown, not z.record: a record hands its checks a copy that has already dropped any
 * `__proto__` key (so it could not be reported), and copies every event's details; z.custom has
 * no JSON Schema. The check makes it an object; the metadata gives it its JSON Schema.
 */
export const eventDetailsSchema = z
  .unknown()
  .check((ctx) => {
    const v = ctx.value;
    if (!isPlainObject(v)) {
      ctx.issues.push({ code: 'custom', message: 'must be a JSON object', input: v });
      return;
    }
    checkDetails(v, (path, message) => ctx.issues.push({ code: 'custom', message, path, input: undefined }));
  })
  .meta({
    type: 'object',
    additionalProperties: {},
    propertyNames: {
      type: 'string',
      minLength: 1,
      maxLength: LIMITS.MAX_KEY_LENGTH,
      not: { enum: ['__proto__', 'constructor', 'prototype'] },
    },
    description: `Event-specific data, any JSON object within the limits: nesting depth ${LIMITS.MAX_DETAILS_DEPTH}, ${LIMITS.MAX_DETAILS_KEYS} keys and array elements in total, keys of 1 to ${LIMITS.MAX_KEY_LENGTH} characters (not __proto__, constructor, prototype) whose paths (keys joined by '.') are unique, strings up to ${LIMITS.MAX_STRING_LENGTH} characters, numbers within ±(2^53-1), no NUL characters.`,
  }) as unknown as z.ZodType<Record<string, unknown>, Record<string, unknown>>;

const ip = z
  .string({ error: typeError('a string') })
  .refine(isIpAddress, 'must be an IPv4 or IPv6 address')
  .meta({ anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }], description: 'Client IP address of the actor.' });

const schemaVersion = z
  .number({ error: typeError('an integer') })
  .int('must be an integer')
  .min(1, 'must be at least 1')
  .max(LIMITS.MAX_SCHEMA_VERSION, `must be at most ${LIMITS.MAX_SCHEMA_VERSION}`)
  .default(1)
  .meta({ description: 'Version of the producer’s event_details layout for this event_type.' });

/** Fields every form of the event shares; tenant_id and source differ only in optionality. */
const shape = {
  event_id: eventId.optional(),
  event_type: eventType,
  timestamp: timestamp(
    'When it happened (producer clock): RFC 3339 with Z or ±hh:mm, between 1970-01-01 and 2105-12-31, at most 24 hours ahead of the receiving server’s clock and not older than the retention (RETENTION_DAYS).',
  ),
  user_id: text(LIMITS.MAX_FIELD_LENGTH, 'The actor: who did it.'),
  event_details: eventDetailsSchema.optional(),
  tenant_id: text(LIMITS.MAX_FIELD_LENGTH, 'Tenant the event belongs to.').optional(),
  source: text(LIMITS.MAX_FIELD_LENGTH, 'Producing system.').optional(),
  actor_type: text(LIMITS.MAX_FIELD_LENGTH, 'Kind of actor, e.g. user, service, api_key.').optional(),
  resource_type: text(LIMITS.MAX_FIELD_LENGTH, 'Kind of resource acted on, e.g. invoice.').optional(),
  resource_id: text(LIMITS.MAX_FIELD_LENGTH, 'Id of the resource acted on.').optional(),
  action: text(LIMITS.MAX_FIELD_LENGTH, 'Verb, e.g. create, read, update, delete.').optional(),
  outcome: text(LIMITS.MAX_FIELD_LENGTH, 'Result, e.g. success, failure, denied.').optional(),
  ip: ip.optional(),
  user_agent: text(LIMITS.MAX_USER_AGENT_LENGTH, 'User agent of the actor’s client.').optional(),
  schema_version: schemaVersion,
};

const strictError = (iss: { code?: string; keys?: readonly string[] }) => {
  if (iss.code === 'unrecognized_keys') {
    return `unknown field(s) ${(iss.keys ?? []).join(', ')}: event-specific data belongs in event_details`;
  }
  if (iss.code === 'invalid_type') return 'event must be a JSON object';
  return undefined;
};

/**
 * One event as a producer sends it to the HTTP API. Unknown top-level fields are rejected by name
 * so a typo cannot vanish; the whole-event size limit is checked by validateEvent.
 */
export const eventInputSchema = z
  .strictObject(
    {
      ...shape,
      event_type: eventType.refine(
        (t) => !isReservedEventType(t),
        `${RESERVED_EVENT_TYPE_PREFIX}* event types are written by the audit log itself (reads, management actions) and cannot be sent`,
      ),
    },
    { error: strictError },
  )
  .meta({
    title: 'Audit event (HTTP)',
    description: `One audit event as sent to POST /events. At most ${LIMITS.MAX_EVENT_BYTES} bytes of compact UTF-8 JSON.`,
  });

/**
 * The value of a message on `audit.events`. The ingest API writes every field; a producer writing
 * straight to Kafka must send tenant_id and may omit event_id (derived from the message's
 * topic/partition/offset), received_at (the message timestamp) and source ("kafka").
 */
export const auditEventSchema = z
  .strictObject(
    {
      ...shape,
      tenant_id: text(LIMITS.MAX_FIELD_LENGTH, 'Tenant the event belongs to (required on Kafka).'),
      received_at: timestamp('When the service received it (server clock).').optional(),
    },
    { error: strictError },
  )
  .meta({
    title: 'Audit event (Kafka message value on audit.events)',
    description: `UTF-8 JSON, at most ${LIMITS.MAX_MESSAGE_BYTES} bytes. Key: "<tenant_id>/<event_id>" (every copy of one event_id on one partition, so the sink sees them in order and the first write wins). Headers: content-type: application/json, schema-version: 1.`,
  });

export type EventInput = z.input<typeof eventInputSchema>;
export type AuditEventMessage = z.output<typeof auditEventSchema>;

/** An event as stored: every server-assigned field present, timestamps normalized to UTC ms. */
export type AuditEvent = {
  event_id: string;
  event_type: string;
  /** normalized: ISO UTC with ms, e.g. 2026-01-02T03:04:05.678Z */
  timestamp: string;
  received_at: string;
  tenant_id: string;
  source: string;
  user_id: string;
  actor_type?: string;
  resource_type?: string;
  resource_id?: string;
  action?: string;
  outcome?: string;
  ip?: string;
  user_agent?: string;
  schema_version: number;
  event_details: Record<string, unknown>;
};
