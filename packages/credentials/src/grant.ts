import { MAX_KEY_LENGTH, type ParsedKey, parseKey } from './key-format.ts';
import { invalidClient, OAuthError } from './oauth-errors.ts';

/** A token request body is a few hundred bytes; anything much larger is refused unread. */
export const MAX_TOKEN_BODY_BYTES = 4096;
const SCOPE_TOKEN_RE = /^[\x21\x23-\x5b\x5d-\x7e]+$/; // RFC 6749 §3.3 scope-token
const MAX_SCOPES = 16;

export interface ClientCredentialsGrant {
  key: ParsedKey;
  /** Requested scopes; undefined: all of the key's. */
  scopes: string[] | undefined;
}

/**
 * Parses an RFC 6749 §4.4.2 request: `grant_type=client_credentials`, optional `scope`, and the
 * client authenticated either by HTTP Basic (§2.3.1: form-urlencoded id and secret) or by
 * `client_id` + `client_secret` in the body — not both (§2.3). The client id is the key id and
 * the secret is the whole `ak_<id>_<secret>` key; they must agree. Throws OAuthError.
 */
export function parseTokenRequest(body: string, authorization: string | undefined): ClientCredentialsGrant {
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(body);
  } catch {
    throw new OAuthError('invalid_request', 'body is not application/x-www-form-urlencoded');
  }
  const seen = new Set<string>();
  for (const name of params.keys()) {
    // §3.2: parameters MUST NOT be included more than once.
    if (seen.has(name))
      throw new OAuthError('invalid_request', `parameter ${safe(name)} given more than once`);
    seen.add(name);
  }
  const grantType = params.get('grant_type');
  if (grantType === null || grantType === '')
    throw new OAuthError('invalid_request', 'grant_type is required');
  if (grantType !== 'client_credentials') {
    throw new OAuthError('unsupported_grant_type', 'only grant_type=client_credentials is supported');
  }

  const fromBasic = authorization === undefined ? undefined : basicCredentials(authorization);
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  if (fromBasic && (bodyId !== null || bodySecret !== null)) {
    throw new OAuthError(
      'invalid_request',
      'use HTTP Basic or client_id/client_secret in the body, not both',
    );
  }
  const [clientId, clientSecret] = fromBasic ?? [bodyId, bodySecret];
  if (clientId === null || clientSecret === null || clientId === '' || clientSecret === '') {
    throw invalidClient('client_id and client_secret are required (HTTP Basic or body)');
  }
  const key = parseKey(clientSecret);
  if (!key || key.id !== clientId.replace(/^ak_/, '')) throw invalidClient();

  return { key, scopes: parseScope(params.get('scope')) };
}

/** `Basic base64(urlencode(id) ":" urlencode(secret))`; a non-Basic scheme is a client error. */
function basicCredentials(header: string): [string, string] {
  const m = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (!m || (m[1] as string).length > 2 * MAX_KEY_LENGTH + 64)
    throw invalidClient('malformed HTTP Basic credentials');
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('malformed HTTP Basic credentials');
  try {
    return [decodeURIComponent(decoded.slice(0, colon)), decodeURIComponent(decoded.slice(colon + 1))];
  } catch {
    throw invalidClient('malformed HTTP Basic credentials');
  }
}

function parseScope(scope: string | null): string[] | undefined {
  if (scope === null) return undefined;
  const items = scope.split(' ').filter((s) => s !== '');
  if (items.length === 0 || items.length > MAX_SCOPES || !items.every((s) => SCOPE_TOKEN_RE.test(s))) {
    throw new OAuthError('invalid_scope', 'scope must be space-separated scope names');
  }
  return [...new Set(items)];
}

/** Parameter names echoed in errors: printable ASCII, bounded. */
const safe = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
