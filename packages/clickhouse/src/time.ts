/**
 * `DateTime64(3, 'UTC')` as text, both ways. The table's times are written and compared as
 * 'YYYY-MM-DD hh:mm:ss.sss' (UTC), which ClickHouse parses without guessing, and read back in
 * the contract's ISO form.
 */

const ISO_MS_UTC = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}\.\d{3})Z$/;

/** An RFC 3339 timestamp or epoch milliseconds → 'YYYY-MM-DD hh:mm:ss.sss' (UTC). */
export function toClickHouseTime(t: string | number): string {
  if (typeof t === 'string') {
    const m = ISO_MS_UTC.exec(t);
    if (m) return `${m[1]} ${m[2]}`;
  }
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) throw new Error(`not a timestamp: ${t}`);
  const s = d.toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 23)}`;
}

/** A stored `DateTime64(3, 'UTC')` as ClickHouse prints it → ISO UTC with ms, as in the contract. */
export function fromClickHouseTime(text: string): string {
  return `${text.replace(' ', 'T')}Z`;
}
