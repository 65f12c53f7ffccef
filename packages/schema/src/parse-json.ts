import { LIMITS } from './limits.ts';

export type ParseJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; message: string; position?: number };

/**
 * Position of the first bracket that nests deeper than `max`, or -1. Strings are skipped with
 * indexOf so the scan costs little more than the parse; it runs first so a 10,000-deep body is
 * refused without building (or recursing through) anything.
 */
export function excessiveNesting(text: string, max: number): number {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i;
      for (;;) {
        j = text.indexOf('"', j + 1);
        if (j === -1) return -1; // unterminated: JSON.parse reports it
        let k = j - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((j - 1 - k) % 2 === 0) break; // an even run of backslashes does not escape the quote
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return -1;
}

/**
 * JSON.parse with a nesting limit and an error message that carries the character position
 * (V8's messages do not always include it).
 */
export function parseJson(text: string): ParseJsonResult {
  const deep = excessiveNesting(text, LIMITS.MAX_JSON_DEPTH);
  if (deep >= 0) {
    return {
      ok: false,
      message: `JSON nested deeper than ${LIMITS.MAX_JSON_DEPTH} levels at position ${deep}`,
      position: deep,
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const found = findSyntaxError(text);
    if (found) {
      return {
        ok: false,
        message: `invalid JSON at position ${found.position}: ${found.message}`,
        position: found.position,
      };
    }
    return { ok: false, message: `invalid JSON: ${(err as Error).message}` };
  }
}

type SyntaxProblem = { position: number; message: string };

/**
 * A small JSON grammar checker, run only after JSON.parse failed, to locate the error. Nesting is
 * already bounded by excessiveNesting, so recursion is safe.
 */
export function findSyntaxError(text: string): SyntaxProblem | undefined {
  let i = 0;
  const n = text.length;
  const describe = (pos: number) =>
    pos >= n ? 'unexpected end of input' : `unexpected character ${JSON.stringify(text[pos])}`;
  const fail = (pos: number, expected: string): SyntaxProblem => ({
    position: pos,
    message: `${describe(pos)}, expected ${expected}`,
  });
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const str = (): SyntaxProblem | undefined => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return { position: i, message: 'control character in string (escape it)' };
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            return { position: i, message: 'invalid \\u escape in string' };
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else return { position: i, message: 'invalid escape in string' };
      } else i++;
    }
    return { position: n, message: 'unterminated string' };
  };
  const NUMBER_RE = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  const value = (): SyntaxProblem | undefined => {
    ws();
    const c = text[i];
    if (c === '"') return str();
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return undefined;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') return fail(i, 'a property name in double quotes');
        const e = str();
        if (e) return e;
        ws();
        if (text[i] !== ':') return fail(i, "':'");
        i++;
        const v = value();
        if (v) return v;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return undefined;
        } else return fail(i, "',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return undefined;
      }
      for (;;) {
        const v = value();
        if (v) return v;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return undefined;
        } else return fail(i, "',' or ']'");
      }
    }
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return undefined;
      }
    }
    NUMBER_RE.lastIndex = i;
    if (NUMBER_RE.test(text)) {
      i = NUMBER_RE.lastIndex;
      return undefined;
    }
    return fail(i, 'a JSON value');
  };
  const e = value();
  if (e) return e;
  ws();
  if (i < n) return fail(i, 'end of input');
  return undefined;
}
