import { TENANT_RE } from '@audit/auth';
import { z } from 'zod';
import { ANALYST_NAME_RE } from './analysts.ts';

/** Operator keys (scope `admin`) belong to this reserved tenant; no real tenant may take the name. */
export const OPERATOR_TENANT = 'operator';
/** Scopes a tenant key may hold; `admin` only on operator keys. */
export const TENANT_KEY_SCOPES = ['events:write', 'events:read', 'streams:manage'] as const;
const MAX_KEY_LIFETIME_SECONDS = 5 * 365 * 86_400;

export const createTenantBody = z.strictObject({
  tenant_id: z
    .string()
    .regex(TENANT_RE, 'must match ^[a-z0-9][a-z0-9_-]{0,63}$')
    .refine((t) => t !== OPERATOR_TENANT, `"${OPERATOR_TENANT}" is reserved for operator keys`),
  name: z.string().min(1).max(256).optional(),
});

export const createKeyBody = z.strictObject({
  name: z.string().regex(/^[\x20-\x7e]{1,64}$/, 'printable ASCII, 1 to 64 characters'),
  scopes: z
    .array(z.enum([...TENANT_KEY_SCOPES, 'admin']))
    .min(1)
    .max(8),
  /** Lifetime from now; absent: the key does not expire (rotate it instead). */
  expires_in_seconds: z.number().int().min(60).max(MAX_KEY_LIFETIME_SECONDS).optional(),
});

export const rotateKeyBody = z.strictObject({
  /** How long the old key keeps working after rotation (0: revoked at once). */
  grace_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(0),
});

export const createAnalystBody = z.strictObject({
  name: z.string().regex(ANALYST_NAME_RE, 'must match ^[a-z0-9][a-z0-9_]{0,31}$'),
});

export const keyView = z.object({
  key_id: z.string(),
  tenant_id: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  created_at: z.string(),
  created_by: z.string(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  replaces: z.string().nullable(),
  status: z.enum(['active', 'expired', 'revoked']),
});

export const newKeyView = keyView.extend({
  api_key: z.string().describe('The key, shown once: store it now'),
  client_id: z.string().describe('For POST /oauth/token (= key_id)'),
  client_secret: z.string().describe('For POST /oauth/token (= api_key)'),
});

export const tenantView = z.object({
  tenant_id: z.string(),
  name: z.string(),
  created_by: z.string(),
  created_at: z.string(),
});
