import { loginPathDoc } from '@audit/auth';
import { tokenPathDoc } from '@audit/credentials';
import { ERROR_SCHEMA, errorResponseDoc, operationalPathsDoc } from '@audit/http';
import { eventInputSchema } from '@audit/schema';
import { z } from 'zod';
import type { BodyLimits } from './body.ts';

const validationDetails = {
  type: 'array',
  description: 'One entry per invalid event (the first 100; the message gives the total).',
  items: {
    type: 'object',
    required: ['index', 'issues'],
    properties: {
      index: { type: 'integer', description: '0-based position of the event in the request' },
      line: { type: 'integer', description: 'NDJSON only: 1-based line of the event' },
      issues: {
        type: 'array',
        items: {
          type: 'object',
          required: ['path', 'message'],
          properties: { path: { type: 'string' }, message: { type: 'string' } },
        },
      },
    },
  },
};

const err = errorResponseDoc;

/** An error response whose `details` has a known shape. */
function errWithDetails(
  description: string,
  details: Record<string, unknown>,
  headers?: Record<string, unknown>,
) {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: {
      'application/json': {
        schema: {
          allOf: [
            { $ref: '#/components/schemas/Error' },
            { type: 'object', properties: { error: { type: 'object', properties: { details } } } },
          ],
        },
      },
    },
  };
}

const ids = (description: string) => ({
  type: 'array',
  items: { type: 'string', format: 'uuid' },
  description,
});

/** OpenAPI 3.1 for the ingest API; the event schema is generated from the zod contract. */
export function openApiDocument(limits: BodyLimits) {
  const { $schema: _, ...event } = z.toJSONSchema(eventInputSchema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Audit log ingest API',
      version: '1.0.0',
      description:
        'Accepts audit events and makes them durable in Kafka (topic audit.events). A 202 means ' +
        'Kafka (acks=all) acknowledged every event of the request (or it was written before: ' +
        '`duplicates`); anything else means nothing of the request was accepted (a 503 may still ' +
        'land: resend with the same ids).',
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: '`Authorization: Bearer <jwt>`; a bare `Authorization: <jwt>` is accepted too.',
        },
      },
      schemas: {
        Event: event,
        Error: ERROR_SCHEMA,
        ValidationDetails: validationDetails,
        Accepted: {
          type: 'object',
          required: ['accepted', 'event_ids', 'duplicates'],
          properties: {
            accepted: {
              type: 'integer',
              description: 'Events of the request, duplicates included: all are written.',
            },
            event_ids: ids(
              'In request order: the client event_id, the id derived from the Idempotency-Key, or the generated UUIDv7.',
            ),
            duplicates: ids(
              'The ids among event_ids that were already written with identical content (a resend): acknowledged, not written again. Empty when none.',
            ),
          },
        },
      },
    },
    paths: {
      ...loginPathDoc(),
      ...tokenPathDoc(),
      '/events': {
        post: {
          summary: 'Submit one event, a JSON array of events, or NDJSON',
          description: [
            `Scope \`events:write\`. Bodies: \`application/json\` (one event object or an array of at most ${limits.json.maxEvents} events, at most ${limits.json.maxBytes} bytes) or \`application/x-ndjson\` (one event per line, at most ${limits.ndjson.maxEvents} events and ${limits.ndjson.maxBytes} bytes). UTF-8 only.`,
            'The whole request is validated first; if any event is invalid the answer is 400 and nothing is written.',
            "`tenant_id` is the token's tenant (an event naming another tenant is refused with 403); `source` defaults to the token subject; `event_id` is generated (UUIDv7) when absent; `received_at` is set by the server.",
            '**First write wins.** An `event_id` is written once per tenant, forever. A resend with identical content is acknowledged (202) and listed in `duplicates`; the same id with other content (another body or timestamp) is refused with 409 `conflict` naming the ids, and nothing of the request is written. Ingest checks the ids it acknowledged recently and the stored ones; when ClickHouse is slow it skips the check and storage still keeps the first write (the other copy is dead-lettered).',
            '**Retries.** 202 is sent only after Kafka acknowledged every event. After any failure (5xx, a timeout, a dropped connection) resend the same request with the same `event_id`s, or, if you let the server choose ids, with the same `Idempotency-Key`: a resend never creates a second event. A 503 returns the ids it used in `error.details.event_ids` and says in `may_have_been_written` whether some may land all the same; put those ids into the resend.',
            '**Storage window.** A timestamp older than the retention (RETENTION_DAYS) is refused with 400 `expired`, one more than 24 hours ahead of the server clock with 400 `timestamp_in_future`: storage would delete either on arrival.',
          ].join('\n\n'),
          security: [{ bearer: [] }],
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description:
                'Makes server-chosen ids repeatable: an event without event_id gets a UUID derived from (tenant, key, its index in the request), so a resend of the request with the same key gets the same ids (duplicates), and the key reused for another request gets 409. 1-255 characters of A-Z a-z 0-9 - _ . : ~ + / =, optionally in double quotes; otherwise 400 invalid_idempotency_key.',
              schema: { type: 'string', minLength: 1, maxLength: 257 },
            },
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  oneOf: [
                    { $ref: '#/components/schemas/Event' },
                    { type: 'array', minItems: 1, items: { $ref: '#/components/schemas/Event' } },
                  ],
                },
              },
              'application/x-ndjson': {
                schema: { type: 'string', description: 'One Event object per line' },
              },
            },
          },
          responses: {
            '202': {
              description:
                'Every event is durable: acknowledged by Kafka now, or written before (duplicates)',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } },
            },
            '400': err(
              'invalid_json (details.position; NDJSON details.line), invalid_utf8, empty_body, validation_failed (details: ValidationDetails), expired (a timestamp older than the retention) or timestamp_in_future (more than 24 h ahead; both with details shaped like ValidationDetails, path `timestamp`), invalid_idempotency_key',
            ),
            '401': err('Missing, malformed, expired or wrongly signed token'),
            '403': err(
              'Token lacks events:write (forbidden) or an event names another tenant (tenant_mismatch)',
            ),
            '409': errWithDetails(
              'conflict: an event_id is already written (or repeated in the request) with other content; the first write wins and nothing of the request was written',
              {
                type: 'object',
                required: ['event_ids'],
                properties: { event_ids: ids('The conflicting ids') },
              },
            ),
            '413': err(
              'payload_too_large (bytes), too_many_events, or exceeds_burst (more events than the tenant may send at once: split the batch)',
            ),
            '415': err(
              'unsupported_media_type: not JSON/NDJSON (UTF-8), or a Content-Encoding other than identity',
            ),
            '429': err(
              "rate_limited: over the tenant's requests/s or events/s; nothing was written, resend after Retry-After",
              {
                'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' },
              },
            ),
            '503': errWithDetails(
              'unavailable: Kafka did not acknowledge in time, or too much is in progress. Resend with the ids in details (absent when the body was not read yet)',
              {
                type: 'object',
                properties: {
                  event_ids: ids('The ids this request used, in request order: resend with them'),
                  may_have_been_written: {
                    type: 'boolean',
                    description:
                      'true: some events may be written all the same (the resend is then answered with duplicates)',
                  },
                },
              },
              { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' } },
            ),
          },
        },
      },
      ...operationalPathsDoc('the Kafka producer is connected and the topic metadata answers'),
    },
  };
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;
