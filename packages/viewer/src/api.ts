/**
 * The query API as the viewer uses it: every call carries the viewer's bearer token, and every
 * non-2xx answer becomes an `ApiFailure` holding the API's own error message, so a screen can
 * say what went wrong and what to do.
 */
import type { AuditEvent } from '@audit/schema';
import type { EventProof } from '@audit/tlog';

export type { AuditEvent } from '@audit/schema';

export interface Page {
  events: AuditEvent[];
  next_cursor: string | null;
}

export interface Group {
  key?: string;
  type?: string;
  bucket?: string;
  count: number;
}

/** `GET /viewer/session`: who the token is and the filters it is pinned to. */
export interface Session {
  subject: string;
  tenant: string;
  scopes: string[];
  expires_at?: string | null;
  /** Whether this is a viewer token (read-only, may not mint). */
  viewer?: boolean;
  /** The pinned filters, `{"user_id[eq]": "u-1"}`: the API ANDs them into every read. */
  filters: Record<string, string>;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  /** What the user can do about it, in one sentence. */
  get hint(): string {
    if (this.status === 401) return 'The token is missing, expired or revoked: ask for a new viewer token.';
    if (this.status === 403) return 'This token may not do that.';
    if (this.status === 429) return 'Too many requests: wait a moment and retry.';
    if (this.status === 400) return 'Change the filter named above.';
    if (this.status === 0) return 'The API is unreachable: check the network or the base URL.';
    return 'Retry in a moment; if it persists, tell the operator (request id in the details).';
  }
}

export interface Client {
  list(params: URLSearchParams, cursor?: string, limit?: number): Promise<Page>;
  count(params: URLSearchParams): Promise<number>;
  groups(
    params: URLSearchParams,
    extra: Record<string, string>,
  ): Promise<{ groups: Group[]; truncated: boolean }>;
  event(id: string): Promise<AuditEvent>;
  proof(id: string): Promise<EventProof>;
  keys(): Promise<string[]>;
  session(): Promise<Session>;
  /** The export of exactly these parameters, as a Blob. */
  exportBlob(params: URLSearchParams, format: 'csv' | 'ndjson'): Promise<Blob>;
}

export function createClient(baseUrl: string, token: string, fetchImpl: typeof fetch = fetch): Client {
  const base = baseUrl.replace(/\/+$/, '');
  const call = async (path: string, params?: URLSearchParams): Promise<Response> => {
    const url = params && [...params].length > 0 ? `${base}${path}?${params}` : `${base}${path}`;
    let res: Response;
    try {
      res = await fetchImpl(url, { headers: { Authorization: `Bearer ${token}` } });
    } catch (err) {
      throw new ApiFailure(0, 'network', `cannot reach ${base}: ${(err as Error).message}`);
    }
    if (res.ok) return res;
    let code = 'http_error';
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // Not our JSON error shape (a proxy's page): keep the status line.
    }
    throw new ApiFailure(res.status, code, message);
  };
  const json = async <T>(path: string, params?: URLSearchParams) =>
    (await (await call(path, params)).json()) as T;
  const withExtra = (params: URLSearchParams, extra: Record<string, string>) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(extra)) p.set(k, v);
    return p;
  };
  return {
    list: (params, cursor, limit = 100) =>
      json<Page>('/events', withExtra(params, { limit: String(limit), ...(cursor ? { cursor } : {}) })),
    count: async (params) => (await json<{ count: number }>('/events/stats', params)).count,
    groups: (params, extra) => json('/events/stats', withExtra(params, extra)),
    event: (id) => json<AuditEvent>(`/events/${encodeURIComponent(id)}`),
    proof: (id) => json<EventProof>(`/events/${encodeURIComponent(id)}/proof`),
    keys: async () =>
      (await json<{ keys: { verifier_key: string }[] }>('/keys')).keys.map((k) => k.verifier_key),
    session: () => json<Session>('/viewer/session'),
    exportBlob: async (params, format) =>
      (await call('/events/export', withExtra(params, { format }))).blob(),
  };
}
