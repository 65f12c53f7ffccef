/**
 * The view as data: a time range, filter conditions in the API's own language, and the open
 * event. It round-trips through a URL query string whose filter parameters are exactly the
 * API's (`details.plan[eq]=pro`), so a bookmarked view is also a readable API query.
 */
import { FILTER_OPERATORS, FILTERABLE_FIELDS, type FilterOperator } from '@audit/schema/filter-language';

export const OPERATORS: readonly FilterOperator[] = FILTER_OPERATORS;
export const COMMON_FILTER_FIELDS: readonly string[] = FILTERABLE_FIELDS;
export type Operator = FilterOperator;

export interface Condition {
  field: string;
  op: Operator;
  value: string;
}

export interface Preset {
  id: string;
  label: string;
  ms: number;
}

const MIN = 60_000;
export const PRESETS: readonly Preset[] = [
  { id: '15m', label: 'Last 15 minutes', ms: 15 * MIN },
  { id: '1h', label: 'Last hour', ms: 60 * MIN },
  { id: '24h', label: 'Last 24 hours', ms: 24 * 60 * MIN },
  { id: '7d', label: 'Last 7 days', ms: 7 * 24 * 60 * MIN },
  { id: '30d', label: 'Last 30 days', ms: 30 * 24 * 60 * MIN },
  { id: '365d', label: 'Last year', ms: 365 * 24 * 60 * MIN },
];
export const DEFAULT_PRESET = '24h';

/** A relative range follows the clock (live tail works on it); an absolute one is fixed. */
export type Range = { preset: string } | { from: string; to: string };

export interface ViewState {
  range: Range;
  conditions: Condition[];
  /** The event whose drawer is open. */
  event?: string;
}

const CONDITION_RE = /^(.+)\[([a-z]+)\]$/;
const VIEW_PARAMS = new Set(['range', 'from', 'to', 'event']);

export function presetOf(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}

export function isRelative(r: Range): r is { preset: string } {
  return 'preset' in r;
}

/** Absolute bounds of a range at `now` (ms since epoch). */
export function resolveRange(r: Range, now: number): { from: number; to: number } {
  if (isRelative(r)) {
    const p = presetOf(r.preset) ?? (presetOf(DEFAULT_PRESET) as Preset);
    return { from: now - p.ms, to: now };
  }
  return { from: Date.parse(r.from), to: Date.parse(r.to) };
}

/** The API parameter of a condition: `field[op]`. */
export const paramOf = (c: Pick<Condition, 'field' | 'op'>) => `${c.field}[${c.op}]`;

/** A `field[op]=value` pair, or undefined when it is not a condition. */
export function conditionOf(name: string, value: string): Condition | undefined {
  const m = CONDITION_RE.exec(name);
  if (m && (OPERATORS as readonly string[]).includes(m[2] as string)) {
    return { field: m[1] as string, op: m[2] as Operator, value };
  }
  if (name === '' || name.includes('[')) return undefined;
  return { field: name, op: 'eq', value };
}

/** The filter parameters of the API: `from`/`to` (RFC 3339) plus one per condition. */
export function apiParams(s: Pick<ViewState, 'range' | 'conditions'>, now: number): URLSearchParams {
  const { from, to } = resolveRange(s.range, now);
  const p = new URLSearchParams();
  p.set('from', new Date(from).toISOString());
  p.set('to', new Date(to).toISOString());
  for (const c of s.conditions) p.set(paramOf(c), c.value);
  return p;
}

export function encodeState(s: ViewState): string {
  const p = new URLSearchParams();
  if (isRelative(s.range)) p.set('range', s.range.preset);
  else {
    p.set('from', s.range.from);
    p.set('to', s.range.to);
  }
  for (const c of s.conditions) p.set(paramOf(c), c.value);
  if (s.event) p.set('event', s.event);
  return p.toString();
}

/** A state from a URL query string; whatever is not understood is dropped, never fatal. */
export function decodeState(search: string): ViewState {
  const p = new URLSearchParams(search);
  const from = p.get('from');
  const to = p.get('to');
  let range: Range = { preset: DEFAULT_PRESET };
  if (from && to && !Number.isNaN(Date.parse(from)) && !Number.isNaN(Date.parse(to)) && from < to) {
    range = { from, to };
  } else if (presetOf(p.get('range') ?? '')) range = { preset: p.get('range') as string };
  const conditions: Condition[] = [];
  for (const [name, value] of p) {
    if (VIEW_PARAMS.has(name)) continue;
    const c = conditionOf(name, value);
    if (c && !conditions.some((x) => paramOf(x) === paramOf(c))) conditions.push(c);
  }
  const event = p.get('event') ?? undefined;
  return event && /^[0-9a-f-]{36}$/i.test(event) ? { range, conditions, event } : { range, conditions };
}

export type Interval = 'minute' | 'hour' | 'day';
const STEP: Record<Interval, number> = { minute: MIN, hour: 60 * MIN, day: 24 * 60 * MIN };

/** The finest bucket that keeps a histogram under ~400 bars (the API allows 10,000 rows). */
export function pickInterval(from: number, to: number): Interval {
  const span = to - from;
  if (span <= 400 * STEP.minute) return 'minute';
  if (span <= 400 * STEP.hour) return 'hour';
  return 'day';
}

/**
 * One count per bucket from `from` to `to`, zeros included, from the API's sparse
 * `{bucket, count}` groups (UTC buckets: ClickHouse's toStartOfInterval in UTC).
 */
export function fillBuckets(
  groups: readonly { bucket: string; count: number }[],
  from: number,
  to: number,
  interval: Interval,
): { t: number[]; n: number[] } {
  const step = STEP[interval];
  const start = Math.floor(from / step) * step;
  const byStart = new Map<number, number>();
  for (const g of groups) byStart.set(Date.parse(g.bucket), g.count);
  const t: number[] = [];
  const n: number[] = [];
  for (let x = start; x < to; x += step) {
    t.push(x / 1000);
    n.push(byStart.get(x) ?? 0);
  }
  return { t, n };
}

/** Conditions after adding one: same field and operator replaces (the API takes each once). */
export function withCondition(list: readonly Condition[], c: Condition): Condition[] {
  return [...list.filter((x) => paramOf(x) !== paramOf(c)), c];
}
