import { errorResponseDoc as error } from '@audit/http';
import { batchInput, destinationInput } from '@audit/streams';
import { z } from 'zod';
import { MAX_STREAM_BODY_BYTES } from './routes/streams.ts';

/** OpenAPI paths of routes/streams.ts (docs/streams.md). */
const secured = [{ bearer: [] }];
const jsonSchema = (s: z.ZodType) => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(s, { io: 'input', target: 'draft-2020-12' });
  return rest;
};
const id = {
  name: 'stream_id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^st_[0-9a-f]{20}$' },
};
const json = (schema: unknown) => ({ 'application/json': { schema } });

const status = {
  type: ['object', 'null'],
  description: 'Summed over the streamer instances; null before the streamer first reported',
  properties: {
    delivered: {
      type: 'integer',
      description: 'Events the destination acknowledged (redeliveries count again)',
    },
    failed: { type: 'integer', description: 'Failed delivery attempts' },
    requests: { type: 'integer' },
    lag: {
      type: 'integer',
      description: "Messages of the stream's topics not yet passed (all tenants', before the filter)",
    },
    last_success_at: { type: ['string', 'null'], format: 'date-time' },
    last_error: { type: ['string', 'null'] },
    last_error_at: { type: ['string', 'null'], format: 'date-time' },
    failing_since: { type: ['string', 'null'], format: 'date-time' },
    reported_at: { type: ['string', 'null'], format: 'date-time' },
  },
};

const stream = {
  type: 'object',
  required: [
    'stream_id',
    'name',
    'state',
    'filter',
    'destination',
    'batch',
    'created_at',
    'updated_at',
    'status',
  ],
  properties: {
    stream_id: { type: 'string' },
    name: { type: 'string' },
    state: { type: 'string', enum: ['active', 'paused', 'suspended'] },
    state_reason: { type: 'string', description: 'Why a stream was suspended (its last error)' },
    filter: { type: 'string', description: 'The filter in its canonical form' },
    destination: { type: 'object', description: 'The destination as created, without its secret' },
    batch: jsonSchema(batchInput),
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    status,
    signing_secret: {
      type: 'string',
      description:
        'Webhook streams, on creation and rotation only: the Standard Webhooks secret (whsec_…). Shown once.',
    },
  },
};

const common = {
  401: error('Missing or invalid token'),
  403: error('Token lacks streams:manage'),
  501: error('Log streams are not configured here (no STREAMS_SECRETS_PUBLIC_KEY)'),
  503: error('The record of the change could not be written'),
};
const notFound = { 404: error('No such stream in your tenant') };

const createSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'destination'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    filter: {
      type: 'string',
      maxLength: 8192,
      description:
        'The GET /events filter language as a query string, e.g. `event_type[prefix]=user.&details.amount[gte]=10`; `access_records=include` adds the service’s own records; no from/to. Empty: every event of the tenant.',
    },
    destination: jsonSchema(destinationInput),
    batch: jsonSchema(batchInput),
  },
};

const transition = (what: string) => ({
  post: {
    summary: `${what[0]!.toUpperCase()}${what.slice(1)} a stream`,
    security: secured,
    parameters: [id],
    responses: {
      200: { description: 'The stream', content: json(stream) },
      409: error('The stream is in a state this cannot apply to'),
      ...notFound,
      ...common,
    },
  },
});

export const streamPaths = {
  '/streams': {
    post: {
      summary:
        'Create a log stream: your events, filtered, to a webhook, Splunk HEC, Datadog or syslog over TLS',
      description:
        'Delivery starts with the events written after creation, at least once and in order per partition. Secrets (Splunk token, Datadog API key) are sealed to the streamer’s key and never returned; a webhook’s signing secret is generated and returned once. Recorded in the trail as audit.stream.created.',
      security: secured,
      requestBody: { required: true, content: json(createSchema) },
      responses: {
        201: { description: 'The stream', content: json(stream) },
        400: error(
          'Invalid body, filter (invalid_filter) or destination (invalid_destination: scheme or address the policy refuses)',
        ),
        409: error('The tenant has QUERY_STREAMS_MAX_PER_TENANT streams already (limit_exceeded)'),
        413: error(`Body over ${MAX_STREAM_BODY_BYTES} bytes`),
        415: error('Body is not application/json'),
        ...common,
      },
    },
    get: {
      summary: "List your tenant's streams with their status",
      security: secured,
      responses: {
        200: {
          description: 'The streams',
          content: json({ type: 'object', properties: { streams: { type: 'array', items: stream } } }),
        },
        ...common,
      },
    },
  },
  '/streams/{stream_id}': {
    get: {
      summary: 'One stream and its status',
      security: secured,
      parameters: [id],
      responses: { 200: { description: 'The stream', content: json(stream) }, ...notFound, ...common },
    },
    patch: {
      summary: 'Change a stream’s name, filter or batching (the destination is fixed: create another)',
      security: secured,
      parameters: [id],
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          additionalProperties: false,
          properties: {
            name: createSchema.properties.name,
            filter: createSchema.properties.filter,
            batch: jsonSchema(batchInput),
          },
        }),
      },
      responses: {
        200: { description: 'The stream', content: json(stream) },
        400: error('Invalid body or filter'),
        ...notFound,
        ...common,
      },
    },
    delete: {
      summary: 'Delete a stream (delivery stops within a poll interval)',
      security: secured,
      parameters: [id],
      responses: { 204: { description: 'Deleted' }, ...notFound, ...common },
    },
  },
  '/streams/{stream_id}/pause': transition('pause'),
  '/streams/{stream_id}/resume': transition(
    'resume (also a suspended one; delivery continues where it stopped)',
  ),
  '/streams/{stream_id}/secret': {
    post: {
      summary:
        'Rotate the secret: a new webhook signing secret (the old one keeps signing for grace_seconds), or a new Splunk token / Datadog API key',
      security: secured,
      parameters: [id],
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          additionalProperties: false,
          properties: {
            grace_seconds: {
              type: 'integer',
              minimum: 0,
              maximum: 604800,
              description: 'Webhooks; default 86400',
            },
            token: { type: 'string', description: 'Splunk' },
            api_key: { type: 'string', description: 'Datadog' },
          },
        }),
      },
      responses: {
        200: { description: 'The stream (with signing_secret for webhooks)', content: json(stream) },
        400: error('Invalid body for this destination type'),
        409: error('A syslog stream has no secret'),
        ...notFound,
        ...common,
      },
    },
  },
  '/streams/{stream_id}/test': {
    post: {
      summary: 'Send one test event (audit.stream.test) to the destination now, through the streamer',
      security: secured,
      parameters: [id],
      responses: {
        200: {
          description: 'The result',
          content: json({
            type: 'object',
            properties: {
              test_id: { type: 'string' },
              done: { type: 'boolean' },
              ok: { type: 'boolean' },
              status: { type: 'integer' },
              error: { type: 'string' },
              latency_ms: { type: 'integer' },
            },
          }),
        },
        202: {
          description:
            'Not answered within QUERY_STREAM_TEST_WAIT_MS: GET /streams/{id}/tests/{test_id} later',
        },
        ...notFound,
        ...common,
      },
    },
  },
  '/streams/{stream_id}/tests/{test_id}': {
    get: {
      summary: 'The result of a test delivery',
      security: secured,
      parameters: [id, { name: 'test_id', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { 200: { description: 'The result' }, ...notFound, ...common },
    },
  },
};
