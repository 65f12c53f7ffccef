import { toClickHouseTime } from '@audit/clickhouse';
import { type AuditEvent, type DetailsColumns, detailsColumns, isReservedEventType } from '@audit/schema';
import type { Field } from './fields.ts';
import type { Condition, Filters } from './parse.ts';
import { parseNumber } from './values.ts';

/** Whether one validated event (as the sink stores it) matches a set of filters. */
export type Matcher = (event: AuditEvent) => boolean;

/**
 * The `details` / `details_type` columns of an event, built by the sink's own function. Cached
 * per event_details object: several streams' matchers see the same event, and a validated
 * event is never changed afterwards.
 */
const columnsCache = new WeakMap<object, DetailsColumns>();

function columnsOf(event: AuditEvent): DetailsColumns {
  let cols = columnsCache.get(event.event_details);
  if (cols === undefined) {
    cols = detailsColumns(event.event_details);
    columnsCache.set(event.event_details, cols);
  }
  return cols;
}

/**
 * A test on one details node as the two Map columns read it: its type ('' when the event has no
 * node at the path) and its text ('' for containers, which `details` does not hold).
 */
type NodeTest = (type: string, text: string) => boolean;

/**
 * Where a UTF-16 code unit sorts among UTF-8 byte sequences. Code units order as code points
 * (and so as UTF-8 bytes) except surrogates: the halves of U+10000 and above sort below
 * U+E000–U+FFFF in UTF-16 but above them in UTF-8, the order ClickHouse compares String in.
 */
const utf8Rank = (unit: number) => (unit < 0xd800 ? unit : unit < 0xe000 ? unit + 0x2000 : unit - 0x800);

/** Compares two well-formed strings by their UTF-8 bytes, as ClickHouse's `<` on String does. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

type Compare = 'gt' | 'gte' | 'lt' | 'lte';
const ORDERED: Record<Compare, (cmp: number) => boolean> = {
  gt: (c) => c > 0,
  gte: (c) => c >= 0,
  lt: (c) => c < 0,
  lte: (c) => c <= 0,
};

type Test = (event: AuditEvent) => boolean;

/**
 * `details.p=v` for any v of `values`: a string or boolean leaf by its text, a number leaf by
 * its canonical text when v is a number (the stored text is JSON.stringify's, one per double,
 * so `15.0` and `1.5e1` reach it through String(Number(v))). build-query's detailsEqualsBranches.
 */
function equalsAny(values: readonly string[]): NodeTest {
  const texts = new Set(values);
  const numbers = new Set<string>();
  for (const v of values) {
    const n = parseNumber(v);
    if (n !== undefined) numbers.add(String(n));
  }
  return (type, text) =>
    ((type === 'string' || type === 'boolean') && texts.has(text)) ||
    (type === 'number' && numbers.has(text));
}

/** A filter on a details path: build-query's detailsConditionSql, on the same two columns. */
function detailsTest(c: Condition, path: string): Test {
  // Own properties only: a path such as `toString` must not find Object.prototype's.
  const at =
    (test: NodeTest): Test =>
    (event) => {
      const { details, details_type } = columnsOf(event);
      if (!Object.hasOwn(details_type, path)) return test('', '');
      return test(details_type[path]!, Object.hasOwn(details, path) ? details[path]! : '');
    };
  switch (c.op) {
    case 'exists':
      return c.value ? at((type) => type !== '') : at((type) => type === '');
    case 'type': {
      const type = c.value;
      return at((t) => t === type);
    }
    case 'eq':
      return at(equalsAny([c.value]));
    case 'in':
      return at(equalsAny(c.value));
    case 'ne': {
      const equals = equalsAny([c.value]);
      return at((type, text) => type !== '' && !equals(type, text));
    }
    case 'prefix': {
      // A prefix in UTF-16 code units is one in UTF-8 bytes: both strings are well-formed.
      const prefix = c.value;
      return at((type, text) => type === 'string' && text.startsWith(prefix));
    }
    default: {
      // toFloat64OrNull(text) of a number leaf: JSON.stringify's text reads back as the same double.
      const bound = Number(c.value);
      const holds = ORDERED[c.op];
      return at((type, text) => {
        if (type !== 'number') return false;
        const x = Number(text);
        return holds(x < bound ? -1 : x > bound ? 1 : 0);
      });
    }
  }
}

type Column = Extract<Field, { kind: 'column' }>;

/** The column's stored value: an omitted optional field is '' (to-row.ts), a UUID as its lower-case text. */
function columnValue(f: Column): (event: AuditEvent) => string | number {
  const name = f.name as keyof AuditEvent;
  if (f.type === 'uint') return (e) => e[name] as number;
  if (f.type === 'uuid') return (e) => (e[name] as string).toLowerCase();
  return (e) => (e[name] as string | undefined) ?? '';
}

function unsupported(c: Condition, f: Column): never {
  throw new Error(`the parser never gives ${c.op} on ${f.type} column ${f.name}`);
}

/** The test on the column's value alone, as build-query's columnConditionSql compares it. */
function columnValueTest(c: Condition, f: Column): (v: string | number) => boolean {
  switch (f.type) {
    case 'string':
      switch (c.op) {
        case 'eq': {
          const value = c.value;
          return (v) => v === value;
        }
        case 'ne': {
          const value = c.value;
          return (v) => v !== value;
        }
        case 'prefix': {
          const prefix = c.value;
          return (v) => (v as string).startsWith(prefix);
        }
        case 'in': {
          const values = new Set(c.value);
          return (v) => values.has(v as string);
        }
        case 'gt':
        case 'gte':
        case 'lt':
        case 'lte': {
          const bound = String(c.value);
          const holds = ORDERED[c.op];
          return (v) => holds(compareUtf8(v as string, bound));
        }
        default:
          return unsupported(c, f);
      }
    case 'uuid':
      // A UUID parameter parses either case; toString() (what prefix compares) is lower-case.
      switch (c.op) {
        case 'eq': {
          const value = c.value.toLowerCase();
          return (v) => v === value;
        }
        case 'ne': {
          const value = c.value.toLowerCase();
          return (v) => v !== value;
        }
        case 'prefix': {
          const prefix = c.value;
          return (v) => (v as string).startsWith(prefix);
        }
        case 'in': {
          const values = new Set(c.value.map((v) => v.toLowerCase()));
          return (v) => values.has(v as string);
        }
        default:
          return unsupported(c, f);
      }
    case 'uint':
      switch (c.op) {
        case 'eq':
        case 'ne':
        case 'gt':
        case 'gte':
        case 'lt':
        case 'lte': {
          const bound = Number(c.value);
          const op = c.op;
          if (op === 'eq') return (v) => v === bound;
          if (op === 'ne') return (v) => v !== bound;
          const holds = ORDERED[op];
          return (v) => holds((v as number) - bound);
        }
        case 'in': {
          const values = new Set(c.value.map(Number));
          return (v) => values.has(v as number);
        }
        default:
          return unsupported(c, f);
      }
  }
}

/** A filter on a common column. An omitted optional field matches only exists=false. */
function columnTest(c: Condition, f: Column): Test {
  const value = columnValue(f);
  if (c.op === 'exists') {
    if (f.type !== 'string') unsupported(c, f);
    return c.value ? (e) => value(e) !== '' : (e) => value(e) === '';
  }
  const test = columnValueTest(c, f);
  if (!f.optional) return (e) => test(value(e));
  return (e) => {
    const v = value(e);
    return v !== '' && test(v);
  };
}

const namesEventType = (c: Condition) => c.field.kind === 'column' && c.field.name === 'event_type';

/** build-query's accessRecordsSql: the service's own `audit.*` records, unless asked for. */
function accessRecordsTest(filters: Filters): Test | undefined {
  if (filters.accessRecords === 'include') return undefined;
  if (filters.accessRecords === 'only') return (e) => isReservedEventType(e.event_type);
  if (filters.accessRecords === undefined && filters.conditions.some(namesEventType)) return undefined;
  return (e) => !isReservedEventType(e.event_type);
}

/**
 * Compiles filters (from parseRequest or parseStreamFilter) into a test that gives, for a
 * validated event, exactly what the query API's SQL (build-query.ts) gives for the row the sink
 * stores from it: the details columns come from detailsColumns like the sink's, and every
 * comparison follows ClickHouse's (UTF-8 byte order for text, canonical text for numbers). The
 * tenant is not a filter: the caller applies it. Per-filter work (sets, numbers) is done here,
 * once; the common columns are tested before any details path, so an event failing them is
 * never flattened.
 */
export function compileMatcher(filters: Filters): Matcher {
  const tests: Test[] = [];
  const access = accessRecordsTest(filters);
  if (access) tests.push(access);
  const { from, to } = filters;
  if (from !== undefined || to !== undefined) {
    // DateTime64 parameter texts are fixed-width: text order is time order.
    tests.push((e) => {
      const ts = toClickHouseTime(e.timestamp);
      return (from === undefined || ts >= from) && (to === undefined || ts < to);
    });
  }
  for (const c of filters.conditions) if (c.field.kind === 'column') tests.push(columnTest(c, c.field));
  for (const c of filters.conditions)
    if (c.field.kind === 'details') tests.push(detailsTest(c, c.field.path));
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  return (event) => {
    for (const test of tests) if (!test(event)) return false;
    return true;
  };
}
