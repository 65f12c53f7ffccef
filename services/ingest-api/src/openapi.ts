import { loginPathDoc } from '@audit/auth';
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
        'Kafka (acks=all) acknowledged every event of the request; anything else means nothing of ' +
        'the request was accepted.',
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
          required: ['accepted', 'event_ids'],
          properties: {
            accepted: { type: 'integer' },
            event_ids: {
              type: 'array',
              items: { type: 'string', format: 'uuid' },
              description: 'In request order: the client event_id, or the generated UUIDv7.',
            },
          },
        },
      },
    },
    paths: {
      ...loginPathDoc(),
      '/events': {
        post: {
          summary: 'Submit one event, a JSON array of events, or NDJSON',
          description: [
            `Scope \`events:write\`. Bodies: \`application/json\` (one event object or an array of at most ${limits.json.maxEvents} events, at most ${limits.json.maxBytes} bytes) or \`application/x-ndjson\` (one event per line, at most ${limits.ndjson.maxEvents} events and ${limits.ndjson.maxBytes} bytes). UTF-8 only.`,
            'The whole request is validated first; if any event is invalid the answer is 400 and nothing is written.',
            "`tenant_id` is the token's tenant (an event naming another tenant is refused with 403); `source` defaults to the token subject; `event_id` is generated (UUIDv7) when absent; `received_at` is set by the server.",
            '**Idempotency and retries.** 202 is sent only after Kafka acknowledged every event. On 503 (Kafka unavailable or slower than the configured timeout) some events may still be written later, so resend the same request with the same `event_id`s (set them yourself, or reuse the ids of a previous 202): storage keeps one row per `event_id`, and a resend gets 202 again.',
          ].join('\n\n'),
          security: [{ bearer: [] }],
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
              description: 'Every event is durable in Kafka',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } },
            },
            '400': err(
              'invalid_json (details.position; NDJSON details.line), invalid_utf8, empty_body, or validation_failed (details: ValidationDetails)',
            ),
            '401': err('Missing, malformed, expired or wrongly signed token'),
            '403': err(
              'Token lacks events:write (forbidden) or an event names another tenant (tenant_mismatch)',
            ),
            '413': err('payload_too_large (bytes) or too_many_events'),
            '415': err(
              'unsupported_media_type: not JSON/NDJSON (UTF-8), or a Content-Encoding other than identity',
            ),
            '503': err('unavailable: Kafka did not acknowledge in time; retry with the same event_ids', {
              'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' },
            }),
          },
        },
      },
      ...operationalPathsDoc('the Kafka producer is connected and the topic metadata answers'),
    },
  };
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;
