/**
 * RFC 8785 (JSON Canonicalization Scheme) for the JSON values this service handles: object keys
 * sorted by UTF-16 code units, no whitespace, strings and numbers as ECMAScript's JSON.stringify
 * writes them (RFC 8785 §3.2.2 and §3.2.2.3 are defined as exactly that). Callers pass values
 * that are valid JSON already (validated events: finite numbers, no lone surrogates).
 *
 * Dependency-free on purpose: the browser-side verifier canonicalizes with the same code.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    if (s === undefined) throw new TypeError(`not a JSON value: ${String(value)}`);
    return s;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 asks for.
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}
