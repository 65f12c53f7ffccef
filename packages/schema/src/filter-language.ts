/**
 * The query language's vocabulary (`field[op]=value`), shared by the query API's parser and the
 * viewer's filter bar so the two cannot drift. No imports beyond plain constants: the viewer
 * bundles this file without zod.
 */
import { COMMON_FIELDS } from './limits.ts';

export const FILTER_OPERATORS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'prefix',
  'exists',
  'type',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/** Common fields a request may filter or group on: all but the tenant, which comes from the token. */
export const FILTERABLE_FIELDS = COMMON_FIELDS.filter((f) => f !== 'tenant_id');
