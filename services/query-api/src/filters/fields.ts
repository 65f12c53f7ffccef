import { COMMON_FIELDS, DETAILS_PATH_RE } from '@audit/schema';

/** How a column compares: text, a UUID, or a small unsigned integer. */
export type ColumnType = 'string' | 'uuid' | 'uint';

/**
 * A field a filter or a grouping refers to. A column name here is always one of the fixed
 * names below (never text from the request), so it can be written into SQL; a details path
 * only ever reaches ClickHouse as a query parameter.
 */
export type Field = { kind: 'column'; name: string; type: ColumnType } | { kind: 'details'; path: string };

const COLUMN_TYPES: Record<string, ColumnType> = { event_id: 'uuid', schema_version: 'uint' };

/** Common columns a request may filter or group on: every common field except the tenant, which comes from the token. */
export const FILTER_COLUMNS: ReadonlyMap<string, ColumnType> = new Map(
  COMMON_FIELDS.filter((f) => f !== 'tenant_id').map((f) => [f, COLUMN_TYPES[f] ?? 'string']),
);

export const DETAILS_PREFIX = 'details.';

/** Resolves a field name from a request (`event_type`, `details.customer.plan`), or undefined. */
export function resolveField(name: string): Field | undefined {
  const type = FILTER_COLUMNS.get(name);
  if (type) return { kind: 'column', name, type };
  if (name.startsWith(DETAILS_PREFIX)) {
    const path = name.slice(DETAILS_PREFIX.length);
    if (DETAILS_PATH_RE.test(path)) return { kind: 'details', path };
  }
  return undefined;
}
