import { eventJsonSchema, FILTERABLE_FIELDS, isDetailsPath, OPTIONAL_STRING_FIELDS } from '@audit/schema';

/** How a column compares: text, a UUID, or a small unsigned integer. */
export type ColumnType = 'string' | 'uuid' | 'uint';

/**
 * A field a filter or a grouping refers to. A column name here is always one of the fixed
 * names below (never text from the request), so it can be written into SQL; a details path
 * only ever reaches ClickHouse as a query parameter.
 */
export type Field =
  | {
      kind: 'column';
      name: string;
      type: ColumnType;
      /** An optional field of the contract: stored as '' when the event omitted it. */
      optional: boolean;
    }
  | { kind: 'details'; path: string };

type PropertySchema = { type?: string; format?: string };

/** A column's comparison type, read off the contract's JSON Schema (format uuid, type integer). */
function columnType(property: PropertySchema | undefined): ColumnType {
  if (property?.format === 'uuid') return 'uuid';
  if (property?.type === 'integer') return 'uint';
  return 'string';
}

const PROPERTIES = eventJsonSchema().properties as Record<string, PropertySchema>;
const OPTIONAL: ReadonlySet<string> = new Set(OPTIONAL_STRING_FIELDS);

/** Common columns a request may filter or group on: every common field except the tenant, which comes from the token. */
export const FILTER_COLUMNS: ReadonlyMap<string, Extract<Field, { kind: 'column' }>> = new Map(
  FILTERABLE_FIELDS.map((f) => [
    f,
    { kind: 'column', name: f, type: columnType(PROPERTIES[f]), optional: OPTIONAL.has(f) },
  ]),
);

export const DETAILS_PREFIX = 'details.';

/**
 * Resolves a field name from a request (`event_type`, `details.customer.plan`), or undefined.
 * Everything after `details.` is the path, as flattenDetails wrote it: `details.` alone names
 * the empty key, `details.a b` a key with a space.
 */
export function resolveField(name: string): Field | undefined {
  const column = FILTER_COLUMNS.get(name);
  if (column) return column;
  if (name.startsWith(DETAILS_PREFIX)) {
    const path = name.slice(DETAILS_PREFIX.length);
    if (isDetailsPath(path)) return { kind: 'details', path };
  }
  return undefined;
}
