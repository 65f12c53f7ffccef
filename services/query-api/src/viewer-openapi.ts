import { PIN_LIMITS } from '@audit/auth';
import { errorResponseDoc as error } from '@audit/http';
import { MAX_VIEWER_BODY_BYTES, MAX_VIEWER_SUBJECT } from './routes/viewer.ts';

/** OpenAPI paths of routes/viewer.ts (docs/api.md, Viewer tokens). */
const secured = [{ bearer: [] }];
const filtersSchema = {
  type: 'object',
  maxProperties: PIN_LIMITS.maxPins,
  additionalProperties: { type: 'string', maxLength: PIN_LIMITS.maxValueLength },
  description:
    'Filters in the `field[op]=value` language of GET /events (and `from`/`to`), as parameter → value; `access_records` cannot be pinned.',
  example: { user_id: 'alice', 'resource_type[in]': 'invoice,order' },
};

export const viewerPaths = {
  '/viewer/tokens': {
    post: {
      summary: 'Mint a short-lived, read-only viewer token for one of your end users, pinned to filters',
      description: `For a host application's backend: the token it hands to a browser (the embedded viewer). Scope events:read only, your tenant, subject \`viewer:<subject>\`. Its pinned filters are AND-ed to every read it makes: list, stats and export return only matching events, an event outside them is 404 by id and by proof, and /leaves and /checkpoints/consistency are 403 (with at least one pin). It cannot mint tokens. It carries the caller's key_id (revoking the API key revokes it) and never outlives the caller's token. The minting is recorded in the trail (audit.viewer_token.created), as is every read made with it (actor_type viewer, event_details.minted_by and pins). 501 when this deployment has no signing secret (JWKS only).`,
      security: secured,
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: false,
              required: ['subject'],
              properties: {
                subject: {
                  type: 'string',
                  minLength: 1,
                  maxLength: MAX_VIEWER_SUBJECT,
                  description: 'Your end user, as your application names them',
                },
                ttl_seconds: {
                  type: 'integer',
                  minimum: 1,
                  description:
                    'Lifetime; default QUERY_VIEWER_TOKEN_TTL_SECONDS (900), at most QUERY_VIEWER_TOKEN_MAX_TTL_SECONDS (3600)',
                },
                filters: filtersSchema,
              },
            },
          },
        },
      },
      responses: {
        201: {
          description: 'The token',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['token', 'token_type', 'expires_at', 'expires_in', 'filters'],
                properties: {
                  token: { type: 'string' },
                  token_type: { type: 'string', enum: ['Bearer'] },
                  expires_at: { type: 'string', format: 'date-time' },
                  expires_in: { type: 'integer', description: 'Seconds' },
                  filters: filtersSchema,
                },
              },
            },
          },
        },
        400: error('Invalid body (details name the field) or filter (details.parameter)'),
        401: error('Missing or invalid token'),
        403: error('Token lacks events:read, or is itself a viewer token'),
        413: error(`Body over ${MAX_VIEWER_BODY_BYTES} bytes`),
        415: error('Body is not application/json'),
        501: error('No signing secret configured (JWKS-only deployment)'),
        503: error('The record of the minting could not be written'),
      },
    },
  },
  '/viewer/session': {
    get: {
      summary: 'Who this token is and the filters it is pinned to (for a viewer UI)',
      security: secured,
      responses: {
        200: {
          description: 'The session',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['subject', 'tenant', 'scopes', 'expires_at', 'viewer', 'filters'],
                properties: {
                  subject: { type: 'string' },
                  tenant: { type: 'string' },
                  scopes: { type: 'array', items: { type: 'string' } },
                  expires_at: { type: ['string', 'null'], format: 'date-time' },
                  viewer: { type: 'boolean', description: 'A viewer token (pinned, cannot mint)' },
                  filters: { ...filtersSchema, description: 'The pinned filters; {} for other tokens' },
                  minted_by: { type: 'string', description: 'Subject of the token that minted this one' },
                },
              },
            },
          },
        },
        401: error('Missing or invalid token'),
        403: error('Token lacks events:read'),
      },
    },
  },
};
