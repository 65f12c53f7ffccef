/** Printable ASCII other than `"` and `\`: one byte each, no escaping. Most strings are only this. */
const PLAIN_RE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** True when s needs no escaping and is ASCII: then it has no NUL or surrogates either. */
export function isPlainAscii(s: string): boolean {
  return PLAIN_RE.test(s);
}

/** UTF-8 bytes of JSON.stringify(s), without building the string. */
export function jsonStringBytes(s: string): number {
  return PLAIN_RE.test(s) ? s.length + 2 : escapedStringBytes(s);
}

/** jsonStringBytes for strings that are not plain ASCII. */
export function escapedStringBytes(s: string): number {
  let b = 2;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0x22 || c === 0x5c || c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d)
        b += 2;
      else if (c < 0x20)
        b += 6; // \u00XX
      else b += 1;
    } else if (c < 0x800) b += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        b += 4;
        i++;
      } else b += 6; // a lone surrogate is written as \udXXX
    } else if (c >= 0xd800 && c <= 0xdfff) b += 6;
    else b += 3;
  }
  return b;
}

/** Bytes of a JSON number, boolean or null as JSON.stringify writes it. */
export function jsonScalarBytes(v: number | boolean | null): number {
  if (v === null) return 4;
  if (typeof v === 'boolean') return v ? 4 : 5;
  return Number.isFinite(v) ? String(v).length : 4;
}
