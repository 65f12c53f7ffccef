import { type Filters, parseRequest } from './parse.ts';
import { invalidParameter } from './values.ts';

/** A log stream's filter: what the matcher runs, and the form to store and show. */
export interface StreamFilter {
  filters: Filters;
  /**
   * The parameters sorted by name, URL-encoded (brackets and commas left readable), so two
   * spellings of one filter store alike; parsing it again gives the same filters and the same text.
   */
  canonical: string;
}

/** A stream follows the trail as it is written: a time range would end it silently or never start it. */
const TIME_RANGE = new Set(['from', 'to']);

// encodeURIComponent escapes these, but URLSearchParams reads them back unescaped as well.
const READABLE: Record<string, string> = { '%5B': '[', '%5D': ']', '%2C': ',' };
const encode = (s: string) => encodeURIComponent(s).replace(/%5B|%5D|%2C/g, (m) => READABLE[m]!);

/**
 * Parses a stream's filter written as a query string (`event_type[prefix]=user.&details.amount[gte]=10`,
 * percent-encoded like a query API request, a leading `?` allowed) with the query API's parser:
 * the same fields, operators, values and limits, and `access_records`. `from`/`to` are refused.
 * An empty string matches every event except the service's own `audit.*` records. Throws the
 * parser's 400 `invalid_parameter` naming the parameter.
 */
export function parseStreamFilter(query: string): StreamFilter {
  const entries = [...new URLSearchParams(query).entries()];
  for (const [name] of entries) {
    if (TIME_RANGE.has(name)) throw invalidParameter(name, 'a stream has no time range');
  }
  const { filters, canonical } = parseRequest(entries, []);
  return { filters, canonical: canonical.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&') };
}
