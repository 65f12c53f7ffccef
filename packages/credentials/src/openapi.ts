import { errorResponseDoc as error } from '@audit/http';
import { z } from 'zod';
import {
  createAnalystBody,
  createKeyBody,
  createTenantBody,
  keyView,
  newKeyView,
  rotateKeyBody,
  tenantView,
} from './admin-schemas.ts';

const schema = (s: z.ZodType, io: 'input' | 'output' = 'output') => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(s, { io, target: 'draft-2020-12' });
  return rest;
};
const json = (description: string, s: object) => ({
  description,
  content: { 'application/json': { schema: s } },
});
const body = (s: z.ZodType) => ({
  required: true,
  content: { 'application/json': { schema: schema(s, 'input') } },
});
const admin = [{ bearer: [] }];
const common = {
  400: error('Invalid body or path (invalid_json / invalid_request)'),
  401: error('Missing or invalid token'),
  403: error('Token lacks admin'),
  413: error('Body too large'),
  415: error('Not application/json'),
};
const oauthError = (description: string) =>
  json(description, {
    type: 'object',
    required: ['error'],
    properties: { error: { type: 'string' }, error_description: { type: 'string' } },
  });
const keyId = {
  name: 'key_id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[a-z0-9]{16,32}$' },
};
const tenant = { name: 'tenant', in: 'path', required: true, schema: { type: 'string' } };

/** OpenAPI paths of `POST /oauth/token` (both APIs). */
export function tokenPathDoc() {
  return {
    '/oauth/token': {
      post: {
        summary: 'Exchange an API key for a short-lived JWT (OAuth 2.0 client credentials, RFC 6749 §4.4)',
        description:
          "Client authentication by HTTP Basic (`key_id:api_key`) or `client_id`/`client_secret` in the body. The token carries the key's tenant, the granted scopes and `key_id`; it is refused by every replica within seconds of the key's revocation (docs/credentials.md).",
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                required: ['grant_type'],
                properties: {
                  grant_type: { type: 'string', const: 'client_credentials' },
                  scope: { type: 'string', description: "Space-separated subset of the key's scopes" },
                  client_id: { type: 'string' },
                  client_secret: { type: 'string' },
                },
              },
            },
          },
        },
        responses: {
          200: json('A token (Cache-Control: no-store)', {
            type: 'object',
            required: ['access_token', 'token_type', 'expires_in', 'scope'],
            properties: {
              access_token: { type: 'string' },
              token_type: { type: 'string', const: 'Bearer' },
              expires_in: { type: 'integer' },
              scope: { type: 'string' },
            },
          }),
          400: oauthError('invalid_request, unsupported_grant_type, invalid_scope'),
          401: oauthError('invalid_client (unknown, wrong, revoked or expired key)'),
          413: oauthError('Body over 4 KiB'),
          415: oauthError('Not application/x-www-form-urlencoded'),
          429: oauthError('Too many attempts (slow_down)'),
          503: oauthError('Key store unavailable (temporarily_unavailable)'),
        },
      },
    },
  };
}

/** OpenAPI paths of `/admin/*` (query API). */
export function adminPathsDoc() {
  const tenantList = {
    type: 'object',
    properties: { tenants: { type: 'array', items: schema(tenantView) } },
  };
  const keyList = { type: 'object', properties: { keys: { type: 'array', items: schema(keyView) } } };
  return {
    '/admin/tenants': {
      post: {
        summary: 'Create a tenant',
        security: admin,
        requestBody: body(createTenantBody),
        responses: { 201: json('Created', schema(tenantView)), ...common, 409: error('Tenant exists') },
      },
      get: {
        summary: 'List tenants',
        security: admin,
        responses: { 200: json('Tenants', tenantList), ...common },
      },
    },
    '/admin/tenants/{tenant}/keys': {
      post: {
        summary: 'Create an API key (shown once). Tenant `operator`: an operator key with scope admin',
        security: admin,
        parameters: [tenant],
        requestBody: body(createKeyBody),
        responses: { 201: json('The key', schema(newKeyView)), ...common, 404: error('No such tenant') },
      },
      get: {
        summary: "List a tenant's keys (never their secrets)",
        security: admin,
        parameters: [tenant],
        responses: { 200: json('Keys', keyList), ...common, 404: error('No such tenant') },
      },
    },
    '/admin/keys/{key_id}': {
      get: {
        summary: 'One key',
        security: admin,
        parameters: [keyId],
        responses: { 200: json('The key', schema(keyView)), ...common, 404: error('No such key') },
      },
    },
    '/admin/keys/{key_id}/revoke': {
      post: {
        summary: 'Revoke a key: no new tokens, and its tokens are refused everywhere within seconds',
        security: admin,
        parameters: [keyId],
        responses: { 200: json('The revoked key', schema(keyView)), ...common, 404: error('No such key') },
      },
    },
    '/admin/keys/{key_id}/rotate': {
      post: {
        summary: 'Replace a key with a new one (shown once); the old one stops after grace_seconds',
        security: admin,
        parameters: [keyId],
        requestBody: { ...body(rotateKeyBody), required: false },
        responses: {
          201: json('The new key', schema(newKeyView)),
          ...common,
          404: error('No such key'),
          409: error('Key not active'),
        },
      },
    },
    '/admin/tenants/{tenant}/analysts': {
      post: {
        summary: "Create a ClickHouse SQL user who sees only this tenant's rows (password shown once)",
        security: admin,
        parameters: [tenant],
        requestBody: body(createAnalystBody),
        responses: {
          201: json('The user', {
            type: 'object',
            properties: {
              tenant_id: { type: 'string' },
              user: { type: 'string' },
              password: { type: 'string' },
            },
          }),
          ...common,
          404: error('No such tenant'),
          409: error('Analyst exists'),
          501: error('This ClickHouse cannot store SQL-created users (local chDB stack)'),
        },
      },
    },
  };
}
