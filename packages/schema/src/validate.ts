import { measuredDetails } from './details.ts';
import { type EventInput, eventInputSchema } from './event-schema.ts';
import { fromZodIssues, type Issue } from './issues.ts';
import { jsonScalarBytes, jsonStringBytes } from './json-size.ts';
import { LIMITS } from './limits.ts';

export type ValidateEventResult = { ok: true; event: EventInput } | { ok: false; issues: Issue[] };

function valueBytes(v: unknown): number {
  if (typeof v === 'string') return jsonStringBytes(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return jsonScalarBytes(v);
  if (typeof v === 'object') {
    const measured = measuredDetails.get(v);
    if (measured !== undefined) return measured;
  }
  // Only wrong-typed fields get here: the event is invalid anyway, so precision beats speed.
  try {
    const json = JSON.stringify(v);
    return json === undefined ? -1 : Buffer.byteLength(json, 'utf8');
  } catch {
    return 0; // BigInt or a cycle: not JSON, which the schema reports at the offending path.
  }
}

/**
 * The whole-event size limit: UTF-8 bytes of the event as compact JSON (what JSON.stringify
 * writes), computed without serializing. Call after eventInputSchema has checked event_details.
 */
export function eventSizeIssue(value: unknown): Issue | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  let bytes = 1;
  let fields = 0;
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const vb = valueBytes(obj[key]);
    if (vb < 0) continue; // undefined or a function: JSON.stringify omits the field
    bytes += jsonStringBytes(key) + 1 + vb;
    fields++;
  }
  bytes += fields === 0 ? 1 : fields;
  if (bytes <= LIMITS.MAX_EVENT_BYTES) return undefined;
  return {
    path: '',
    message: `event is ${bytes} bytes of JSON, more than the limit of ${LIMITS.MAX_EVENT_BYTES}`,
  };
}

/**
 * Validates one event as a producer sent it, reporting every problem at once: shape and types,
 * formats, every limit (size, depth, key count, lengths), NUL, lone surrogates, prototype keys.
 */
export function validateEvent(value: unknown): ValidateEventResult {
  const r = eventInputSchema.safeParse(value);
  // After safeParse: the size of event_details was measured while checking it.
  const size = eventSizeIssue(value);
  if (r.success && size === undefined) return { ok: true, event: r.data };
  const issues: Issue[] = size === undefined ? [] : [size];
  if (!r.success) fromZodIssues(r.error.issues, issues);
  return { ok: false, issues };
}
