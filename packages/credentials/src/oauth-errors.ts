/**
 * RFC 6749 §5.2 error codes of the token endpoint, with the status each is answered with:
 * 401 for a failed client authentication (with a `WWW-Authenticate` challenge, §5.2), 400 for
 * the rest; plus what the RFC leaves to us (a busy or unreachable key store, a rate limit).
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'temporarily_unavailable'
  | 'slow_down';

export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly status: 400 | 401 | 413 | 415 | 429 | 503 = code === 'invalid_client' ? 401 : 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.name = 'OAuthError';
  }

  body() {
    return { error: this.code, error_description: this.description };
  }
}

export const invalidClient = (description = 'client authentication failed') =>
  new OAuthError('invalid_client', description, 401, {
    'WWW-Authenticate': 'Basic realm="audit", charset="UTF-8"',
  });
