import { type Auth, TENANT_RE } from '@audit/auth';
import type { ClickHouseClient } from '@audit/clickhouse';
import { ApiError, jsonBody } from '@audit/http';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import {
  createAnalystBody,
  createKeyBody,
  createTenantBody,
  OPERATOR_TENANT,
  rotateKeyBody,
  TENANT_KEY_SCOPES,
} from './admin-schemas.ts';
import { createAnalyst } from './analysts.ts';
import { generateKey } from './key-format.ts';
import type { KeyState, KeyStore } from './store.ts';

/** A management action, for the trails of the tenant acted on and of the actor (the query API records it). */
export interface AdminAction {
  tenant: string;
  event_type: string;
  details: Record<string, unknown>;
}
/** Gets the request's context: the actor, request id and client come from it. */
export type RecordAction = (c: Context, e: AdminAction) => Promise<void>;

export interface AdminRouteDeps {
  store: KeyStore;
  auth: Pick<Auth, 'require'>;
  /** Client of the access user (CREATE USER …); absent: analysts cannot be created here. */
  access?: ClickHouseClient;
  /** Database of the trail analysts read. */
  database: string;
  /** Awaited before the response: an action that cannot be recorded is not reported as done. */
  recordAction?: RecordAction;
  now?: () => number;
}

export const MAX_ADMIN_BODY_BYTES = 16 * 1024;
const KEY_ID_PARAM_RE = /^[a-z0-9]{16,32}$/;

export function keyStatus(k: KeyState, nowMs: number): 'active' | 'expired' | 'revoked' {
  if (k.revokedAt !== null && Date.parse(k.revokedAt) <= nowMs) return 'revoked';
  if (k.expiresAt !== null && Date.parse(k.expiresAt) <= nowMs) return 'expired';
  return 'active';
}

function view(k: KeyState, nowMs: number) {
  return {
    key_id: k.keyId,
    tenant_id: k.tenant,
    name: k.name,
    scopes: k.scopes,
    created_at: k.createdAt,
    created_by: k.createdBy,
    expires_at: k.expiresAt,
    revoked_at: k.revokedAt,
    replaces: k.replaces,
    status: keyStatus(k, nowMs),
  };
}

/**
 * `/admin/*`: tenants, their API keys and analysts. Every route needs scope `admin` (operator
 * keys, tenant `operator`); actions are recorded in the target tenant's trail via recordAction.
 */
export function createAdminRoutes(deps: AdminRouteDeps): Hono {
  const now = deps.now ?? Date.now;
  const { store } = deps;
  const app = new Hono();
  app.use(
    '/admin/*',
    bodyLimit({
      maxSize: MAX_ADMIN_BODY_BYTES,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `body exceeds ${MAX_ADMIN_BODY_BYTES} bytes`);
      },
    }),
    deps.auth.require('admin'),
  );

  const record = async (c: Context, tenant: string, event_type: string, details: Record<string, unknown>) => {
    await deps.recordAction?.(c, { tenant, event_type, details });
  };
  const tenantParam = async (c: Context) => {
    const tenant = c.req.param('tenant') ?? '';
    if (!TENANT_RE.test(tenant)) throw new ApiError(400, 'invalid_request', 'bad tenant id in path');
    if (tenant !== OPERATOR_TENANT && !(await store.getTenant(tenant))) {
      throw new ApiError(404, 'not_found', `no tenant ${tenant}`);
    }
    return tenant;
  };
  const keyParam = async (c: Context) => {
    const id = c.req.param('key_id') ?? '';
    if (!KEY_ID_PARAM_RE.test(id)) throw new ApiError(400, 'invalid_request', 'bad key id in path');
    const key = await store.getKey(id);
    if (!key) throw new ApiError(404, 'not_found', `no key ${id}`);
    return key;
  };
  const issueKey = async (
    c: Context,
    k: { tenant: string; name: string; scopes: string[]; expiresAt: Date | null; replaces?: string },
  ) => {
    const key = generateKey();
    const at = new Date(now());
    await store.addKey({
      ...k,
      keyId: key.id,
      secretHash: key.secretHash,
      actor: c.var.principal.subject,
      at,
    });
    const stored = await store.getKey(key.id);
    if (!stored) throw new ApiError(503, 'unavailable', 'the key was not readable after storing it; retry');
    return { ...view(stored, now()), api_key: key.key, client_id: key.id, client_secret: key.key };
  };

  app.post('/admin/tenants', async (c) => {
    const body = await jsonBody(c, createTenantBody);
    if (await store.getTenant(body.tenant_id)) {
      throw new ApiError(409, 'conflict', `tenant ${body.tenant_id} exists`);
    }
    const t = {
      tenant_id: body.tenant_id,
      name: body.name ?? body.tenant_id,
      created_by: c.var.principal.subject,
    };
    await store.createTenant({ ...t, at: new Date(now()) });
    await record(c, t.tenant_id, 'audit.tenant.created', { tenant_id: t.tenant_id, name: t.name });
    return c.json((await store.getTenant(t.tenant_id)) ?? t, 201);
  });

  app.get('/admin/tenants', async (c) => c.json({ tenants: await store.listTenants() }));

  app.post('/admin/tenants/:tenant/keys', async (c) => {
    const tenant = await tenantParam(c);
    const body = await jsonBody(c, createKeyBody);
    const admin = tenant === OPERATOR_TENANT;
    const allowed: readonly string[] = admin ? ['admin'] : TENANT_KEY_SCOPES;
    const wrong = body.scopes.filter((s) => !allowed.includes(s));
    if (wrong.length > 0) {
      throw new ApiError(
        400,
        'invalid_request',
        `${admin ? 'operator' : 'tenant'} keys cannot hold ${wrong.join(', ')}`,
      );
    }
    const expiresAt =
      body.expires_in_seconds === undefined ? null : new Date(now() + body.expires_in_seconds * 1000);
    const created = await issueKey(c, {
      tenant,
      name: body.name,
      scopes: [...new Set(body.scopes)],
      expiresAt,
    });
    await record(c, tenant, 'audit.key.created', {
      key_id: created.key_id,
      name: created.name,
      scopes: created.scopes,
      expires_at: created.expires_at,
    });
    return c.json(created, 201);
  });

  app.get('/admin/tenants/:tenant/keys', async (c) => {
    const tenant = await tenantParam(c);
    const t = now();
    return c.json({ keys: (await store.listKeys(tenant)).map((k) => view(k, t)) });
  });

  app.get('/admin/keys/:key_id', async (c) => c.json(view(await keyParam(c), now())));

  app.post('/admin/keys/:key_id/revoke', async (c) => {
    const key = await keyParam(c);
    if (key.revokedAt === null) {
      await store.cutKey({
        keyId: key.keyId,
        tenant: key.tenant,
        kind: 'revoked',
        at: new Date(now()),
        actor: c.var.principal.subject,
      });
      await record(c, key.tenant, 'audit.key.revoked', { key_id: key.keyId, name: key.name });
    }
    const after = await store.getKey(key.keyId);
    return c.json(view(after ?? key, now()));
  });

  app.post('/admin/keys/:key_id/rotate', async (c) => {
    const old = await keyParam(c);
    const { grace_seconds } = await jsonBody(c, rotateKeyBody, true);
    if (keyStatus(old, now()) !== 'active')
      throw new ApiError(409, 'conflict', `key ${old.keyId} is not active`);
    const created = await issueKey(c, {
      tenant: old.tenant,
      name: old.name,
      scopes: old.scopes,
      expiresAt: old.expiresAt === null ? null : new Date(old.expiresAt),
      replaces: old.keyId,
    });
    const cutAt = new Date(now() + grace_seconds * 1000);
    const kind = grace_seconds === 0 ? 'revoked' : 'expires';
    await store.cutKey({
      keyId: old.keyId,
      tenant: old.tenant,
      kind,
      at: cutAt,
      actor: c.var.principal.subject,
    });
    await record(c, old.tenant, 'audit.key.rotated', {
      key_id: old.keyId,
      new_key_id: created.key_id,
      old_key_valid_until: cutAt.toISOString(),
    });
    return c.json(created, 201);
  });

  app.post('/admin/tenants/:tenant/analysts', async (c) => {
    const tenant = await tenantParam(c);
    if (tenant === OPERATOR_TENANT) throw new ApiError(400, 'invalid_request', 'analysts belong to a tenant');
    const { name } = await jsonBody(c, createAnalystBody);
    if (!deps.access) throw new ApiError(501, 'not_implemented', 'no ClickHouse access user is configured');
    const result = await createAnalyst(deps.access, deps.database, tenant, name);
    if (!result.ok) {
      throw result.reason === 'exists'
        ? new ApiError(409, 'conflict', result.message)
        : new ApiError(501, 'not_implemented', result.message);
    }
    await record(c, tenant, 'audit.analyst.created', { user: result.user });
    return c.json({ tenant_id: tenant, user: result.user, password: result.password }, 201);
  });

  return app;
}
