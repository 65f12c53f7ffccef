/**
 * OpenAPI 3.1 pieces every service's document shares: the one error shape and the routes the
 * base app adds (`/healthz`, `/readyz`, `/metrics`).
 */
export const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
} as const;

/** A response with the JSON error body (`#/components/schemas/Error` must be ERROR_SCHEMA). */
export function errorResponseDoc(description: string, headers?: Record<string, unknown>) {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
}

/** The base app's unauthenticated operational routes. */
export function operationalPathsDoc(readiness: string) {
  return {
    '/healthz': {
      get: { summary: 'Liveness: the process runs', responses: { 200: { description: 'Alive' } } },
    },
    '/readyz': {
      get: {
        summary: `Readiness: ${readiness}`,
        responses: {
          200: { description: 'Ready' },
          503: errorResponseDoc('Not ready (details list the problems)'),
        },
      },
    },
    '/metrics': {
      get: { summary: 'Prometheus metrics', responses: { 200: { description: 'Prometheus text format' } } },
    },
  };
}
