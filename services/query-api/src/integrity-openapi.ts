import { errorResponseDoc as error } from '@audit/http';

/** OpenAPI paths of routes/integrity.ts (docs/integrity.md explains the formats). */
const secured = [{ bearer: [] }];
const b64 = { type: 'string', description: 'base64 SHA-256 hash' };
const checkpoint = {
  type: 'object',
  required: ['tree_size', 'root_hash', 'key_id', 'created_at', 'note'],
  properties: {
    tree_size: { type: 'integer' },
    root_hash: b64,
    key_id: { type: 'string', description: '<key name>+<key hash> of the signing key' },
    created_at: { type: 'string', format: 'date-time' },
    note: {
      type: 'string',
      description:
        'The signed checkpoint: a C2SP tlog-checkpoint (origin `<SEALER_ORIGIN>/<tenant>`, size, root, `time` and `prev` extension lines) in a C2SP signed note (Ed25519)',
    },
  },
};
const common = {
  401: error('Missing or invalid token'),
  403: error('Token lacks events:read'),
  503: error('ClickHouse unavailable'),
  504: error('Query timed out'),
};
/** Leaves and consistency data speak of every event of the tenant: not for pinned viewer tokens. */
const tenantWide = {
  ...common,
  403: error('Token lacks events:read, or is a viewer token with pinned filters'),
};
const json = (description: string, schema: object) => ({
  description,
  content: { 'application/json': { schema } },
});
const sizeParam = (name: string, description: string, required = false) => ({
  name,
  in: 'query',
  required,
  description,
  schema: { type: 'integer', minimum: 1 },
});

export const integrityPaths = {
  '/checkpoints/latest': {
    get: {
      summary: "Your tenant's latest signed checkpoint",
      security: secured,
      responses: { 200: json('The checkpoint', checkpoint), 404: error('No checkpoint yet'), ...common },
    },
  },
  '/checkpoints': {
    get: {
      summary: 'Your signed checkpoints, oldest first, paged by tree size',
      security: secured,
      parameters: [
        { name: 'from_size', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
      ],
      responses: {
        200: json('A page; next_from_size when more exist', {
          type: 'object',
          properties: {
            checkpoints: { type: 'array', items: checkpoint },
            next_from_size: { type: 'integer' },
          },
        }),
        400: error('Bad parameter'),
        ...common,
      },
    },
  },
  '/checkpoints/consistency': {
    get: {
      summary:
        'RFC 9162 consistency proof from tree size `from` to the checkpoint of size `to` (default: latest)',
      security: secured,
      parameters: [sizeParam('from', 'Older tree size', true), sizeParam('to', 'Tree size of a checkpoint')],
      responses: {
        200: json('The proof', {
          type: 'object',
          properties: {
            from: { type: 'integer' },
            to: { type: 'integer' },
            proof: { type: 'array', items: b64 },
            checkpoint,
          },
        }),
        400: error('Bad parameter, or no checkpoint of that size'),
        404: error('No checkpoint yet'),
        409: error('The stored log is incomplete'),
        ...tenantWide,
      },
    },
  },
  '/events/{event_id}/proof': {
    get: {
      summary: 'RFC 9162 inclusion proof of one event under a checkpoint (default: latest)',
      security: secured,
      parameters: [
        { name: 'event_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
        sizeParam('tree_size', 'Tree size of a checkpoint'),
      ],
      responses: {
        200: json('The proof', {
          type: 'object',
          properties: {
            event_id: { type: 'string' },
            leaf_index: { type: 'integer' },
            leaf_hash: b64,
            tree_size: { type: 'integer' },
            proof: { type: 'array', items: b64 },
            checkpoint,
          },
        }),
        400: error('Bad parameter'),
        404: error('No sealed event with this id in your tenant (or outside a viewer token’s pins)'),
        409: error('Not covered by that checkpoint yet, or the stored log is incomplete'),
        ...common,
      },
    },
  },
  '/leaves': {
    get: {
      summary: "Your log's leaves in order (index, event id, leaf hash), for rebuilding the tree",
      security: secured,
      parameters: [
        { name: 'start', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
        {
          name: 'limit',
          in: 'query',
          schema: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
        },
      ],
      responses: {
        200: json('Leaves [start, start+limit)', {
          type: 'object',
          properties: {
            leaves: {
              type: 'array',
              items: {
                type: 'object',
                properties: { index: { type: 'integer' }, event_id: { type: 'string' }, leaf_hash: b64 },
              },
            },
          },
        }),
        400: error('Bad parameter'),
        ...tenantWide,
      },
    },
  },
  '/keys': {
    get: {
      summary: 'Verifier keys (C2SP signed-note `name+hash+base64`) the sealer signs or signed with',
      description:
        'Pin the key out of band: a key read from the same service proves nothing against its operator.',
      security: secured,
      responses: {
        200: json('The keys, current first', {
          type: 'object',
          properties: {
            keys: {
              type: 'array',
              items: {
                type: 'object',
                properties: { verifier_key: { type: 'string' }, key_id: { type: 'string' } },
              },
            },
          },
        }),
        ...common,
      },
    },
  },
};
