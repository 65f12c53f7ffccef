/** NUL and surrogate halves are the only characters worth a second look; most strings have neither. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this looks for.
const SUSPECT_RE = /[\u0000\ud800-\udfff]/;

type WellFormed = { isWellFormed(): boolean };

/**
 * Why a string cannot be stored, or undefined. NUL breaks C-string consumers downstream; a lone
 * surrogate has no UTF-8 encoding and would be silently replaced, changing the audit record.
 */
export function textProblem(s: string): string | undefined {
  if (!SUSPECT_RE.test(s)) return undefined;
  if (s.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  if (!(s as unknown as WellFormed).isWellFormed()) return 'must not contain unpaired UTF-16 surrogates';
  return undefined;
}
