import { escapedStringBytes, isPlainAscii, jsonScalarBytes } from './json-size.ts';
import { FORBIDDEN_KEYS, LIMITS, MAX_DETAILS_PATH_LENGTH } from './limits.ts';
import { textProblem } from './text.ts';

/** Reported per event_details at most, so a pathological body cannot produce a huge error response. */
export const MAX_DETAILS_ISSUES = 20;

export type PathSegment = string | number;
export type ReportIssue = (path: PathSegment[], message: string) => void;

type Walk = {
  keys: number;
  issues: number;
  bytes: number;
  report: ReportIssue;
  segs: PathSegment[];
  /** Some key contains '.': only then can two nodes flatten to the same path. */
  dotted: boolean;
};

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function issue(w: Walk, message: string): void {
  w.issues++;
  if (w.issues <= MAX_DETAILS_ISSUES) w.report(w.segs.slice(), message);
}

function count(w: Walk): void {
  w.keys++;
  if (w.keys === LIMITS.MAX_DETAILS_KEYS + 1) {
    const saved = w.segs;
    w.segs = [];
    issue(w, `has more than ${LIMITS.MAX_DETAILS_KEYS} keys and array elements in total`);
    w.segs = saved;
  }
}

const STRING_TOO_LONG = `string longer than ${LIMITS.MAX_STRING_LENGTH} characters`;

function walkValue(w: Walk, v: unknown, level: number): void {
  switch (typeof v) {
    case 'string':
      if (isPlainAscii(v)) {
        w.bytes += v.length + 2;
        if (v.length > LIMITS.MAX_STRING_LENGTH) issue(w, STRING_TOO_LONG);
      } else {
        w.bytes += escapedStringBytes(v);
        if (v.length > LIMITS.MAX_STRING_LENGTH) issue(w, STRING_TOO_LONG);
        else {
          const p = textProblem(v);
          if (p !== undefined) issue(w, p);
        }
      }
      return;
    case 'number':
      w.bytes += jsonScalarBytes(v);
      if (!Number.isFinite(v)) issue(w, 'must be a finite number');
      else if (v > LIMITS.MAX_SAFE_NUMBER || v < -LIMITS.MAX_SAFE_NUMBER) {
        issue(w, 'number beyond ±(2^53-1) loses precision: send it as a string');
      }
      return;
    case 'boolean':
      w.bytes += v ? 4 : 5;
      return;
    case 'object':
      if (v === null) {
        w.bytes += 4;
        return;
      }
      if (level > LIMITS.MAX_DETAILS_DEPTH) {
        issue(w, `nested deeper than ${LIMITS.MAX_DETAILS_DEPTH} levels`);
        return;
      }
      if (Array.isArray(v)) {
        // brackets and commas
        w.bytes += v.length === 0 ? 2 : v.length + 1;
        for (let i = 0; i < v.length; i++) {
          count(w);
          w.segs.push(i);
          walkValue(w, v[i], level + 1);
          w.segs.pop();
        }
        return;
      }
      if (isPlainObject(v)) {
        walkObject(w, v, level);
        return;
      }
      break;
  }
  issue(w, 'must be a JSON value (string, number, boolean, null, array or object)');
}

function walkObject(w: Walk, obj: Record<string, unknown>, level: number): void {
  const keys = Object.keys(obj);
  // braces, commas and colons
  w.bytes += keys.length === 0 ? 2 : 2 * keys.length + 1;
  for (const key of keys) {
    count(w);
    w.segs.push(key);
    const plain = isPlainAscii(key);
    w.bytes += plain ? key.length + 2 : escapedStringBytes(key);
    if (!w.dotted && key.includes('.')) w.dotted = true;
    if (FORBIDDEN_KEYS.has(key)) issue(w, `key "${key}" is not allowed`);
    // ClickHouse cannot look up '' in a LowCardinality map reliably (it is the column's default):
    // such a key would be stored but never found by a filter.
    else if (key === '') issue(w, 'key must not be empty');
    else if (key.length > LIMITS.MAX_KEY_LENGTH)
      issue(w, `key longer than ${LIMITS.MAX_KEY_LENGTH} characters`);
    else if (!plain) {
      const p = textProblem(key);
      if (p !== undefined) issue(w, `key ${p}`);
    }
    walkValue(w, obj[key], level + 1);
    w.segs.pop();
  }
}

/**
 * Compact-JSON byte size of the details objects checkDetails walked, so validateEvent measures the
 * event without serializing it (JSON.stringify was a third of validation time).
 */
export const measuredDetails = new WeakMap<object, number>();

/**
 * Reports the second of any two nodes whose flattened paths are equal (`{"a.b":1,"a":{"b":2}}`,
 * or `{"a.0":1,"a":[2]}`): the `details` map could keep only one of them, so such details are
 * refused rather than stored ambiguously. Joining keys with '.' is injective when no key holds a
 * '.', so checkDetails runs this only when one does, and only on otherwise valid details (at most
 * MAX_DETAILS_KEYS nodes).
 */
function checkCollisions(w: Walk, details: Record<string, unknown>): void {
  const seen = new Set<string>();
  const visit = (prefix: string, v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    for (const key of keys) {
      const path = prefix + key;
      w.segs.push(key);
      if (seen.has(path)) issue(w, `flattens to the path "${path}" of another key: rename one of them`);
      else seen.add(path);
      visit(`${path}.`, (v as Record<string | number, unknown>)[key]);
      w.segs.pop();
    }
  };
  visit('', details);
}

/**
 * One pass over event_details checking depth, total keys, key and string lengths, NUL, lone
 * surrogates, number range and prototype keys; then, only if a key contains '.', that no two
 * nodes flatten to the same path. Paths are relative to event_details. Also records the JSON
 * size in measuredDetails (exact for JSON values; subtrees past the depth limit are not counted,
 * and such details are invalid anyway).
 */
export function checkDetails(details: Record<string, unknown>, report: ReportIssue): void {
  const w: Walk = { keys: 0, issues: 0, bytes: 0, report, segs: [], dotted: false };
  walkObject(w, details, 1);
  if (w.dotted && w.issues === 0) checkCollisions(w, details);
  if (w.issues > MAX_DETAILS_ISSUES) {
    report([], `${w.issues - MAX_DETAILS_ISSUES} more problems not listed`);
  }
  measuredDetails.set(details, w.bytes);
}

/** What a node of event_details is, as the `details_type` map stores it (JSON Schema's names). */
export type DetailsNodeType = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array';

export const DETAILS_NODE_TYPES: readonly DetailsNodeType[] = [
  'string',
  'number',
  'boolean',
  'null',
  'object',
  'array',
];

/** The two ClickHouse columns built from event_details for filtering. */
export interface DetailsColumns {
  /** Leaf path → value as text: strings as they are, numbers and booleans as JSON text, null as "null". */
  details: Record<string, string>;
  /** Path of every node, leaves and containers (also empty ones) → its type. */
  details_type: Record<string, DetailsNodeType>;
}

function put<T>(out: Record<string, T>, key: string, value: T): void {
  // A plain-object assignment to "__proto__" would be swallowed by the prototype setter.
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

function flattenInto(out: DetailsColumns, path: string, v: unknown): void {
  if (v === null) {
    put(out.details, path, 'null');
    put(out.details_type, path, 'null');
  } else if (typeof v === 'string') {
    put(out.details, path, v);
    put(out.details_type, path, 'string');
  } else if (typeof v === 'number') {
    put(out.details, path, JSON.stringify(v));
    put(out.details_type, path, 'number');
  } else if (typeof v === 'boolean') {
    put(out.details, path, v ? 'true' : 'false');
    put(out.details_type, path, 'boolean');
  } else if (typeof v === 'object') {
    put(out.details_type, path, Array.isArray(v) ? 'array' : 'object');
    flattenChildren(out, `${path}.`, v);
  }
}

function flattenChildren(out: DetailsColumns, prefix: string, v: object): void {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) flattenInto(out, prefix + i, v[i]);
  } else {
    for (const key of Object.keys(v)) flattenInto(out, prefix + key, (v as Record<string, unknown>)[key]);
  }
}

/**
 * event_details as the `details` and `details_type` columns: node paths are keys joined by '.',
 * array elements by index (`items.0.sku`). `details` holds the leaves (empty objects and arrays
 * add nothing to it), `details_type` every node. checkDetails guarantees the paths are unique.
 */
export function detailsColumns(details: Record<string, unknown>): DetailsColumns {
  const out: DetailsColumns = { details: {}, details_type: {} };
  flattenChildren(out, '', details);
  return out;
}

/** The `details` column alone (leaf path → value as text): what `details['customer.plan']` reads. */
export function flattenDetails(details: Record<string, unknown>): Record<string, string> {
  return detailsColumns(details).details;
}

/**
 * Whether `path` can name a node of some valid event_details: not empty (keys are not), short
 * enough for the depth and key limits, and free of what no key may contain (NUL, lone
 * surrogates). Any other text is a path: Unicode, spaces, quotes, brackets, `a..b` (a key "a.").
 */
export function isDetailsPath(path: string): boolean {
  return path.length > 0 && path.length <= MAX_DETAILS_PATH_LENGTH && textProblem(path) === undefined;
}
