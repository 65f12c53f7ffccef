import { loginPathDoc } from '@audit/auth';
import { ERROR_SCHEMA, errorResponseDoc, operationalPathsDoc } from '@audit/http';
import { FILTER_COLUMNS } from './filters/fields.ts';
import { MAX_CONDITIONS, MAX_IN_VALUES, MAX_VALUE_LENGTH, OPERATORS } from './filters/parse.ts';
import { integrityPaths } from './integrity-openapi.ts';
import { DEFAULT_PAGE, MAX_PAGE } from './routes/options.ts';
import { DEFAULT_TOP, MAX_STATS_ROWS, MAX_TOP } from './routes/stats.ts';

const error = errorResponseDoc;

const FILTERS_TEXT = [
  'Filters are query parameters, AND-ed: `field=value` or `field[op]=value`.',
  `Fields: ${[...FILTER_COLUMNS.keys()].join(', ')}, or \`details.<path>\` (a path into event_details: segments of [A-Za-z0-9_-], joined by '.', at most 8; array items by index, e.g. details.items.0.sku).`,
  `Operators: ${OPERATORS.join(', ')}. eq is the default. gt/gte/lt/lte compare numbers for details paths (a non-numeric value is a 400) and text for common fields. in takes up to ${MAX_IN_VALUES} comma-separated values. prefix is "starts with". exists takes true/false (an omitted common field is stored as "").`,
  'Details values compare as the text `flattenDetails` stores (numbers as JSON text: 42, 1.5, true, null).',
  `At most ${MAX_CONDITIONS} filters; values up to ${MAX_VALUE_LENGTH} characters. Unknown parameters, a parameter given twice, bad operators, paths or values are a 400 naming the parameter.`,
  '`from` (inclusive) and `to` (exclusive) bound `timestamp`; RFC 3339 with Z or an offset.',
].join('\n\n');

const filterParams = [
  { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
  { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
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

const auditEvent = {
  type: 'object',
  required: [
    'event_id',
    'event_type',
    'timestamp',
    'received_at',
    'tenant_id',
    'user_id',
    'source',
    'schema_version',
    'event_details',
  ],
  properties: {
    event_id: { type: 'string', format: 'uuid' },
    event_type: { type: 'string' },
    timestamp: { type: 'string', format: 'date-time', description: 'ISO UTC with ms' },
    received_at: { type: 'string', format: 'date-time' },
    tenant_id: { type: 'string' },
    user_id: { type: 'string' },
    source: { type: 'string' },
    actor_type: { type: 'string' },
    resource_type: { type: 'string' },
    resource_id: { type: 'string' },
    action: { type: 'string' },
    outcome: { type: 'string' },
    ip: { type: 'string' },
    user_agent: { type: 'string' },
    schema_version: { type: 'integer' },
    event_details: { type: 'object', additionalProperties: true },
  },
};

/** The OpenAPI 3.1 description of the query API, served at `/openapi.json` and rendered at `/docs`. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Audit log query API',
    version: '1.0.0',
    description:
      'Read the audit trail of your tenant (from the token). Every endpoint but health, metrics, login and these docs needs a JWT with scope events:read, as `Authorization: Bearer <jwt>` or a bare `Authorization: <jwt>`. Errors are `{error: {code, message, details?}}`; a slow ClickHouse is a 504 `timeout`, an unavailable one a 503 `unavailable`.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    schemas: {
      AuditEvent: auditEvent,
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
        description: `Same filters as /events. Without group_by and interval: \`{count}\`. With group_by: the \`top\` most frequent values (absent values count under ""). With interval: one count per bucket (oldest first). With both: the top values per bucket. Bucketed answers hold at most ${MAX_STATS_ROWS} rows; \`truncated\` says when more existed.`,
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
    ...loginPathDoc(),
    ...operationalPathsDoc('ClickHouse answers as the reader and the events table exists'),
  },
} as const;
