import { invalidParameter, parseIntInRange, parseRequest } from '@audit/filters';
import type { Context } from 'hono';
import { withPins } from '../filters/pins.ts';
import type { Order } from '../sql/build-query.ts';

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

/**
 * Query parameters as decoded name/value pairs. Read from the URL rather than Hono's object so
 * a parameter named `__proto__` or `constructor` is just another unknown parameter.
 */
export function searchEntries(c: Context): [string, string][] {
  return [...new URL(c.req.url).searchParams.entries()];
}

export function parseOrder(value: string | undefined): Order {
  if (value === undefined || value === 'desc') return 'desc';
  if (value === 'asc') return 'asc';
  throw invalidParameter('order', 'must be asc or desc');
}

export function parseBounded(name: string, value: string | undefined, def: number, max: number): number {
  if (value === undefined) return def;
  const n = parseIntInRange(value, 1, max);
  if (n === undefined) throw invalidParameter(name, `must be an integer from 1 to ${max}`);
  return n;
}

/**
 * Parses the request for an endpoint whose own parameters are `optionNames`, with a viewer
 * token's pins AND-ed in (`c.var.pins`, set by `readPins`): every filtered endpoint reads through here.
 */
export function parseFor(c: Context, optionNames: readonly string[]) {
  return withPins(parseRequest(searchEntries(c), optionNames), c.get('pins'));
}
