import { type EventRow, rowToEvent } from '@audit/clickhouse';
import { describe, expect, it } from 'vitest';
import { csvHeader, rowToCsv, rowToNdjson } from './events.ts';

const row: EventRow = {
  event_id: '018f0000-0000-7000-8000-000000000000',
  event_type: 'customer.billed',
  timestamp: '2026-01-02 03:04:05.678',
  received_at: '2026-01-02 03:04:06.000',
  tenant_id: 'acme',
  user_id: 'u1',
  source: 'billing',
  actor_type: '',
  resource_type: 'invoice',
  resource_id: '',
  action: '',
  outcome: 'success',
  ip: '',
  user_agent: '',
  schema_version: 1,
  event_details: '{"amount":42,"note":"a, \\"b\\"\\nc","__proto__":{"x":1}}',
};

describe('rowToEvent', () => {
  it('rebuilds the contract shape: ISO times, parsed details, empty optional fields omitted', () => {
    const e = rowToEvent(row);
    expect(e).toEqual({
      event_id: row.event_id,
      event_type: 'customer.billed',
      timestamp: '2026-01-02T03:04:05.678Z',
      received_at: '2026-01-02T03:04:06.000Z',
      tenant_id: 'acme',
      user_id: 'u1',
      source: 'billing',
      resource_type: 'invoice',
      outcome: 'success',
      schema_version: 1,
      event_details: JSON.parse(row.event_details),
    });
    // A stored "__proto__" key stays data, it does not become the prototype.
    expect(Object.getPrototypeOf(e.event_details)).toBe(Object.prototype);
    expect(Object.keys(e.event_details)).toEqual(['amount', 'note', '__proto__']);
  });

  it('writes NDJSON lines', () => {
    expect(JSON.parse(rowToNdjson(row))).toEqual(rowToEvent(row));
    expect(rowToNdjson(row).endsWith('}\n')).toBe(true);
  });

  it('writes RFC 4180 CSV with details as JSON text', () => {
    expect(csvHeader()).toBe(
      'event_id,event_type,timestamp,received_at,tenant_id,user_id,source,actor_type,resource_type,resource_id,action,outcome,ip,user_agent,schema_version,event_details\r\n',
    );
    const details = `"${row.event_details.replaceAll('"', '""')}"`;
    expect(rowToCsv(row)).toBe(
      `${row.event_id},customer.billed,2026-01-02T03:04:05.678Z,2026-01-02T03:04:06.000Z,acme,u1,billing,,invoice,,,success,,,1,${details}\r\n`,
    );
  });

  it('neutralises cells a spreadsheet would run as a formula', () => {
    const hostile = {
      ...row,
      user_id: '=HYPERLINK("http://x")',
      resource_id: '@SUM(A1)',
      action: '+1',
      outcome: '-2',
    };
    const cells = rowToCsv(hostile).split(',');
    expect(cells[5]).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(cells.slice(9, 12)).toEqual(["'@SUM(A1)", "'+1", "'-2"]);
  });
});
