import { escapedStringBytes, isPlainAscii, jsonScalarBytes } from './json-size.ts';
import { FORBIDDEN_KEYS, LIMITS } from './limits.ts';
import { textProblem } from './text.ts';

/** Reported per event_details at most, so a pathological body cannot produce a huge error response. */
export const MAX_DETAILS_ISSUES = 20;

export type PathSegment = string | number;
export type ReportIssue = (path: PathSegment[], message: string) => void;

type Walk = { keys: number; issues: number; bytes: number; report: ReportIssue; segs: PathSegment[] };

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
    if (FORBIDDEN_KEYS.has(key)) issue(w, `key "${key}" is not allowed`);
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
 * One pass over event_details checking depth, total keys, key and string lengths, NUL, lone
 * surrogates, number range and prototype keys. Paths are relative to event_details. Also records
 * the JSON size in measuredDetails (exact for JSON values; subtrees past the depth limit are not
 * counted, and such details are invalid anyway).
 */
export function checkDetails(details: Record<string, unknown>, report: ReportIssue): void {
  const w: Walk = { keys: 0, issues: 0, bytes: 0, report, segs: [] };
  walkObject(w, details, 1);
  if (w.issues > MAX_DETAILS_ISSUES) {
    report([], `${w.issues - MAX_DETAILS_ISSUES} more problems not listed`);
  }
  measuredDetails.set(details, w.bytes);
}

function put(out: Record<string, string>, key: string, value: string): void {
  // A plain-object assignment to "__proto__" would be swallowed by the prototype setter.
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

function flattenInto(out: Record<string, string>, path: string, v: unknown): void {
  if (v === null) put(out, path, 'null');
  else if (typeof v === 'string') put(out, path, v);
  else if (typeof v === 'number') put(out, path, JSON.stringify(v));
  else if (typeof v === 'boolean') put(out, path, v ? 'true' : 'false');
  else if (typeof v === 'object') flattenChildren(out, `${path}.`, v);
}

function flattenChildren(out: Record<string, string>, prefix: string, v: object): void {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) flattenInto(out, prefix + i, v[i]);
  } else {
    for (const key of Object.keys(v)) flattenInto(out, prefix + key, (v as Record<string, unknown>)[key]);
  }
}

/**
 * Leaf paths of event_details joined by '.', array elements by index (`items.0.sku`). Strings as
 * they are, numbers and booleans as JSON text, null as "null"; empty objects/arrays add nothing.
 * This is the ClickHouse `details` map that filters use.
 */
export function flattenDetails(details: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  flattenChildren(out, '', details);
  return out;
}
