import { type Filters, invalidParameter, type ParsedRequest, parseRequest } from '@audit/filters';

/**
 * A viewer token's pinned filters (`Principal.pins`), parsed with the same parser as every
 * request's own filters: the pins mean exactly what the same query string would mean.
 */
export interface Pins {
  filters: Filters;
  /** The pins as [parameter, value] pairs, sorted: what the token carries and the session shows. */
  pairs: [string, string][];
}

/**
 * Parses pins, or throws the parser's 400 naming the parameter. `access_records` cannot be
 * pinned: the reader's own choice there only ever narrows, since the pins still AND.
 */
export function parsePins(pairs: Iterable<[string, string]>): Pins {
  const list = [...pairs];
  for (const [name] of list) {
    if (name === 'access_records') throw invalidParameter(name, 'cannot be pinned');
  }
  const { filters, canonical } = parseRequest(list, []);
  return { filters, pairs: canonical };
}

// DateTime64 parameter texts are fixed-width (`YYYY-MM-DD hh:mm:ss.mmm`): text order is time order.
const later = (a: string | undefined, b: string | undefined) =>
  a === undefined ? b : b === undefined ? a : a > b ? a : b;
const earlier = (a: string | undefined, b: string | undefined) =>
  a === undefined ? b : b === undefined ? a : a < b ? a : b;

/**
 * The request's filters with the pins AND-ed in: every pinned condition is added to the
 * request's own (a request naming the same field with another value matches nothing, never
 * more), and the time range is the intersection. The canonical set, which cursors are bound
 * to, carries the pins under a `pin:` prefix no request parameter can have, so a cursor issued
 * without these pins (or with others) is refused.
 */
export function withPins(own: ParsedRequest, pins: Pins | undefined): ParsedRequest {
  if (pins === undefined) return own;
  const filters: Filters = {
    ...own.filters,
    conditions: [...pins.filters.conditions, ...own.filters.conditions],
  };
  const from = later(pins.filters.from, own.filters.from);
  const to = earlier(pins.filters.to, own.filters.to);
  if (from === undefined) delete filters.from;
  else filters.from = from;
  if (to === undefined) delete filters.to;
  else filters.to = to;
  const canonical: [string, string][] = [
    ...pins.pairs.map(([k, v]): [string, string] => [`pin:${k}`, v]),
    ...own.canonical,
  ];
  return { ...own, filters, canonical };
}
