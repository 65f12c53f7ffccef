import { ApiError } from '@audit/http';

/**
 * 401 with RFC 6750's challenge. The message says what is wrong with the token (expired, bad
 * signature, …) but never echoes the token or library internals.
 */
export function unauthorized(message: string): ApiError {
  return new ApiError(401, 'unauthorized', message, undefined, {
    'WWW-Authenticate': `Bearer error="invalid_token", error_description="${headerSafe(message)}"`,
  });
}

/** No credentials at all: RFC 6750 §3.1 says the challenge carries no error code then. */
export function missingCredentials(): ApiError {
  return new ApiError(401, 'unauthorized', 'missing Authorization header', undefined, {
    'WWW-Authenticate': 'Bearer',
  });
}

export function forbidden(scope: string): ApiError {
  return new ApiError(403, 'forbidden', `token lacks the scope ${scope}`, undefined, {
    'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scope}"`,
  });
}

/** The key endpoint is down or slow: the caller's token may be fine, so this is not a 401. */
export function keysUnavailable(): ApiError {
  return new ApiError(503, 'auth_unavailable', 'token signing keys are temporarily unavailable', undefined, {
    'Retry-After': '5',
  });
}

/** RFC 6750 allows only printable ASCII without `"` or a backslash in error_description. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
}
