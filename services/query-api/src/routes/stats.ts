import { fromClickHouseTime, invalidParameter, resolveField } from '@audit/filters';
import type { Context } from 'hono';
import { noteRead } from '../access-log.ts';
import { buildStatsQuery, type Interval, selectsOnlyAccessRecords } from '../sql/build-query.ts';
import type { RouteDeps } from './deps.ts';
import { parseBounded, parseFor } from './options.ts';

const OPTIONS = ['group_by', 'interval', 'top'] as const;
const INTERVALS: readonly string[] = ['minute', 'hour', 'day'];
export const DEFAULT_TOP = 10;
export const MAX_TOP = 1000;
/** Most rows of a bucketed answer; more sets `truncated` (narrow the range or widen the interval). */
export const MAX_STATS_ROWS = 10_000;

interface StatsRow {
  bucket?: string;
  key?: string;
  node_type?: string;
  count: string | number;
}

/** Leaf types whose group carries the value as `key`. */
const KEYED_TYPES: ReadonlySet<string> = new Set(['string', 'number', 'boolean']);

/**
 * A details group is its node type plus, for strings, numbers and booleans, the value as text;
 * events without the path are the group `{type: "missing"}`.
 */
function detailsGroup(r: StatsRow): { type: string; key?: string } {
  const type = r.node_type || 'missing';
  return KEYED_TYPES.has(type) ? { type, key: r.key ?? '' } : { type };
}

/**
 * `GET /events/stats`: the count of matching events; with `group_by` the `top` most frequent
 * values (an absent common field counts under "", a details path groups by type and value);
 * with `interval` one count per time bucket; with both, the top values within each bucket.
 */
export function eventStats(deps: RouteDeps) {
  return async (c: Context) => {
    const tenant = c.var.principal.tenant;
    const { filters, options } = parseFor(c, OPTIONS);
    const groupByName = options.get('group_by');
    const groupBy = groupByName === undefined ? undefined : resolveField(groupByName);
    if (groupByName !== undefined && !groupBy) {
      throw invalidParameter('group_by', 'must be a common field (e.g. event_type) or details.<path>');
    }
    const interval = options.get('interval');
    if (interval !== undefined && !INTERVALS.includes(interval)) {
      throw invalidParameter('interval', 'must be minute, hour or day');
    }
    const top = parseBounded('top', options.get('top'), DEFAULT_TOP, MAX_TOP);
    const q = buildStatsQuery({
      table: deps.table,
      tenant,
      filters,
      groupBy,
      interval: interval as Interval | undefined,
      top,
      maxRows: MAX_STATS_ROWS + 1,
    });
    const rows = await deps.reader.rows<StatsRow>('stats', q, MAX_STATS_ROWS + 1);
    const accessRecordsOnly = selectsOnlyAccessRecords(filters);
    if (!groupBy && !interval) {
      noteRead(c, { rows: 1, accessRecordsOnly });
      return c.json({ count: Number(rows[0]?.count ?? 0) });
    }
    const truncated = rows.length > MAX_STATS_ROWS;
    const groups = rows.slice(0, MAX_STATS_ROWS).map((r) => ({
      ...(r.bucket === undefined ? {} : { bucket: fromClickHouseTime(`${r.bucket}.000`) }),
      ...(r.node_type !== undefined ? detailsGroup(r) : r.key === undefined ? {} : { key: r.key }),
      count: Number(r.count),
    }));
    noteRead(c, { rows: groups.length, accessRecordsOnly });
    return c.json({ groups, truncated });
  };
}
