import { errorResponseDoc } from '@audit/http';

/** OpenAPI 3.1 path of `POST /login`, as `loginRoutes()` serves it on every API. */
export function loginPathDoc() {
  return {
    '/login': {
      post: {
        summary: 'Exchange a configured user name and password for a short-lived JWT (development)',
        description: 'Development convenience: 404 unless users are configured (AUTH_USERS_FILE).',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['username', 'password'],
                properties: { username: { type: 'string' }, password: { type: 'string' } },
              },
            },
          },
        },
        responses: {
          200: {
            description: 'A token',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    token: { type: 'string' },
                    token_type: { type: 'string', const: 'Bearer' },
                    expires_in: { type: 'integer' },
                  },
                },
              },
            },
          },
          400: errorResponseDoc('Malformed body (invalid_json / invalid_request)'),
          401: errorResponseDoc('Wrong user name or password (invalid_credentials)'),
          404: errorResponseDoc('Login disabled: no users configured'),
          413: errorResponseDoc('Body too large'),
          415: errorResponseDoc('Not application/json'),
        },
      },
    },
  };
}
