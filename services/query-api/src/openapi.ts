import { loginPathDoc } from '@audit/auth';
import { adminPathsDoc, tokenPathDoc } from '@audit/credentials';
import { FILTER_COLUMNS, MAX_CONDITIONS, MAX_IN_VALUES, MAX_VALUE_LENGTH, OPERATORS } from '@audit/filters';
import { ERROR_SCHEMA, errorResponseDoc, operationalPathsDoc } from '@audit/http';
import { auditEventSchema, DETAILS_NODE_TYPES, MAX_DETAILS_PATH_LENGTH } from '@audit/schema';
import { z } from 'zod';
import { integrityPaths } from './integrity-openapi.ts';
import { DEFAULT_PAGE, MAX_PAGE } from './routes/options.ts';
import { DEFAULT_TOP, MAX_STATS_ROWS, MAX_TOP } from './routes/stats.ts';
import { streamPaths } from './streams-openapi.ts';
import { viewerPaths } from './viewer-openapi.ts';

const error = errorResponseDoc;

const FILTERS_TEXT = [
  'Filters are query parameters, AND-ed: `field=value` or `field[op]=value`.',
  `Fields: ${[...FILTER_COLUMNS.keys()].join(', ')}, or \`details.<path>\`: a path into event_details, keys joined by '.', array items by index (details.items.0.sku). Everything after \`details.\` is the path, so any key ingest accepts works (Unicode, spaces, quotes; percent-encode it); a path ending in ']' needs an explicit operator (details.tags[0][eq]=x). Paths are 1 to ${MAX_DETAILS_PATH_LENGTH} characters.`,
  `Operators: ${OPERATORS.join(', ')}; eq is the default. On common fields gt/gte/lt/lte compare text (numbers for schema_version); an omitted optional field matches only exists=false. in takes 1 to ${MAX_IN_VALUES} comma-separated values (an empty list is a 400).`,
  `On details paths a filter never matches an event that lacks the path, except exists=false. eq matches a string or boolean by its text and a number by its value (details.n=15 matches 15 and "15"; 15.0 matches only the number); ne matches events that have the path with anything else; gt/gte/lt/lte match numbers only, numerically; prefix matches strings only; exists is true for any node, objects and arrays included; type is one of ${DETAILS_NODE_TYPES.join(', ')} (details.x[type]=null finds JSON null; details.x=null finds the string "null").`,
  `At most ${MAX_CONDITIONS} filters; values up to ${MAX_VALUE_LENGTH} characters. Unknown parameters, a parameter given twice, bad operators, paths or values are a 400 naming the parameter.`,
  '`from` (inclusive) and `to` (exclusive) bound `timestamp`; RFC 3339 with Z or an offset.',
].join('\n\n');

const filterParams = [
  { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
  { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
  {
    name: 'access_records',
    in: 'query',
    description:
      'The service’s own records of reads and management actions (event_type audit.*, docs/access-audit.md): left out by default (unless an event_type filter is given), `include` or `only`. A read of only access records is not recorded again.',
    schema: { type: 'string', enum: ['exclude', 'include', 'only'] },
  },
  {
    name: 'filters',
    in: 'query',
    description: FILTERS_TEXT,
    style: 'form',
    explode: true,
    schema: { type: 'object', additionalProperties: { type: 'string' } },
    example: { event_type: 'customer.billed', 'details.amount[gte]': '100' },
  },
];

const order = {
  name: 'order',
  in: 'query',
  description: 'By (timestamp, event_id).',
  schema: { type: 'string', enum: ['desc', 'asc'], default: 'desc' },
};

const secured = [{ bearer: [] }];

/**
 * An event as the API returns it: the contract's schema of a stored event (the Kafka message
 * value) with every field the service assigns required, as JSON Schema 2020-12, OpenAPI 3.1's
 * dialect. Derived, so a field added to the contract appears here without another edit.
 */
function auditEventSchemaDoc(): Record<string, unknown> {
  const stored = auditEventSchema.required({
    event_id: true,
    received_at: true,
    source: true,
    event_details: true,
  });
  const { $schema: _dialect, ...schema } = z.toJSONSchema(stored, { io: 'output', target: 'draft-2020-12' });
  const properties = schema.properties as Record<string, Record<string, unknown>>;
  for (const time of ['timestamp', 'received_at']) {
    properties[time] = { ...properties[time], examples: ['2026-01-02T03:04:05.678Z'] };
  }
  return {
    ...schema,
    description:
      'One stored event. timestamp and received_at are ISO UTC with milliseconds; optional fields the producer omitted are absent; event_details is the object as sent.',
  };
}

/** The OpenAPI 3.1 description of the query API, served at `/openapi.json` and rendered at `/docs`. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Audit log query API',
    version: '1.0.0',
    description:
      'Read the audit trail of your tenant (from the token). Every successful read is recorded in your tenant’s trail (audit.log.viewed). Every endpoint but health, metrics, login, the token endpoint and these docs needs a JWT: scope events:read, or admin for /admin/*, as `Authorization: Bearer <jwt>` or a bare `Authorization: <jwt>`. Errors are `{error: {code, message, details?}}`; a slow ClickHouse is a 504 `timeout`, an unavailable one a 503 `unavailable`.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    schemas: {
      AuditEvent: auditEventSchemaDoc(),
      Error: ERROR_SCHEMA,
    },
  },
  paths: {
    ...integrityPaths,
    '/events': {
      get: {
        summary: 'List events (newest first), filtered and paged',
        description: `${FILTERS_TEXT}\n\nPaging is by keyset: pass \`next_cursor\` as \`cursor\` with the same filters and order (a cursor is signed and bound to them, to your tenant, and is refused otherwise). Each event is returned exactly once while new events arrive; \`next_cursor\` is null on the last page.`,
        security: secured,
        parameters: [
          ...filterParams,
          order,
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
          },
          { name: 'cursor', in: 'query', schema: { type: 'string' } },
        ],
        responses: {
          200: {
            description: 'A page',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['events', 'next_cursor'],
                  properties: {
                    events: { type: 'array', items: { $ref: '#/components/schemas/AuditEvent' } },
                    next_cursor: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
          400: error('Invalid parameter (named in details.parameter)'),
          401: error('Missing or invalid token'),
          403: error('Token lacks events:read'),
          503: error('ClickHouse unavailable'),
          504: error('Query timed out'),
        },
      },
    },
    '/events/{event_id}': {
      get: {
        summary: 'One event of your tenant',
        security: secured,
        parameters: [
          { name: 'event_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
        ],
        responses: {
          200: {
            description: 'The event',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/AuditEvent' } } },
          },
          400: error('Not a UUID'),
          401: error('Missing or invalid token'),
          403: error('Token lacks events:read'),
          404: error('No such event in your tenant'),
          503: error('ClickHouse unavailable'),
          504: error('Query timed out'),
        },
      },
    },
    '/events/stats': {
      get: {
        summary: 'Count events, optionally grouped by a field and/or a time bucket',
        description: `Same filters as /events. Without group_by and interval: \`{count}\`. With group_by: the \`top\` most frequent values (an omitted common field counts under ""; a details path groups by \`type\` and value: \`key\` is the text of a string, number or boolean, and events without the path are \`{type: "missing"}\`). With interval: one count per bucket (oldest first). With both: the top values per bucket. Bucketed answers hold at most ${MAX_STATS_ROWS} rows; \`truncated\` says when more existed.`,
        security: secured,
        parameters: [
          ...filterParams,
          {
            name: 'group_by',
            in: 'query',
            description: 'A common field or details.<path>',
            schema: { type: 'string' },
          },
          { name: 'interval', in: 'query', schema: { type: 'string', enum: ['minute', 'hour', 'day'] } },
          {
            name: 'top',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: MAX_TOP, default: DEFAULT_TOP },
          },
        ],
        responses: {
          200: {
            description: 'Counts',
            content: {
              'application/json': {
                schema: {
                  oneOf: [
                    { type: 'object', required: ['count'], properties: { count: { type: 'integer' } } },
                    {
                      type: 'object',
                      required: ['groups', 'truncated'],
                      properties: {
                        groups: {
                          type: 'array',
                          items: {
                            type: 'object',
                            required: ['count'],
                            properties: {
                              bucket: { type: 'string', format: 'date-time' },
                              key: { type: 'string' },
                              type: {
                                type: 'string',
                                enum: [...DETAILS_NODE_TYPES, 'missing'],
                                description: 'Only when grouping by a details path',
                              },
                              count: { type: 'integer' },
                            },
                          },
                        },
                        truncated: { type: 'boolean' },
                      },
                    },
                  ],
                },
              },
            },
          },
          400: error('Invalid parameter'),
          401: error('Missing or invalid token'),
          403: error('Token lacks events:read'),
          503: error('ClickHouse unavailable'),
          504: error('Query timed out'),
        },
      },
    },
    '/events/export': {
      get: {
        summary: 'Stream every matching event as NDJSON or CSV',
        description:
          'Same filters as /events. Streamed with flat memory; at most the configured maximum rows (QUERY_EXPORT_MAX_ROWS; `limit` may lower it). CSV has a header row; event_details is its JSON text. An error after the first byte cuts the response short.',
        security: secured,
        parameters: [
          ...filterParams,
          order,
          {
            name: 'format',
            in: 'query',
            schema: { type: 'string', enum: ['ndjson', 'csv'], default: 'ndjson' },
          },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } },
        ],
        responses: {
          200: {
            description: 'The events',
            content: {
              'application/x-ndjson': { schema: { type: 'string' } },
              'text/csv': { schema: { type: 'string' } },
            },
          },
          400: error('Invalid parameter'),
          401: error('Missing or invalid token'),
          403: error('Token lacks events:read'),
          503: error('ClickHouse unavailable'),
          504: error('Query timed out'),
        },
      },
    },
    ...viewerPaths,
    ...streamPaths,
    ...loginPathDoc(),
    ...tokenPathDoc(),
    ...adminPathsDoc(),
    ...operationalPathsDoc('ClickHouse answers as the reader and the events table exists'),
  },
} as const;
