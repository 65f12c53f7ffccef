/**
 * The sink computes a leaf from the row it inserts, the verifier from the event the query API
 * returns for that row: both must give the same bytes for every shape of event.
 */
import { rowToEvent, toRow } from '@audit/clickhouse';
import { type AuditEvent, OPTIONAL_STRING_FIELDS } from '@audit/schema';
import { leafHashOfEvent, leafHashOfRow, toHex } from '@audit/tlog';
import { nodeHasher } from '@audit/tlog/node';
import { describe, expect, it } from 'vitest';

const base: AuditEvent = {
  event_id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  event_type: 'customer.billed',
  timestamp: '2026-11-27T12:00:00.000Z',
  received_at: '2026-11-27T12:00:00.004Z',
  tenant_id: 'acme',
  user_id: 'cust-42',
  source: 'billing',
  schema_version: 1,
  event_details: {},
};

describe('leaf hash: sink row vs query API event', () => {
  const cases: Array<[string, AuditEvent]> = [
    ['minimal', base],
    [
      'every optional field',
      { ...base, ...Object.fromEntries(OPTIONAL_STRING_FIELDS.map((k) => [k, `v-${k}`])) },
    ],
    [
      'nested, unicode, numbers, integer-like keys',
      {
        ...base,
        event_details: {
          b: 1,
          '10': 'x',
          '2': [1.5, -0, 1e21, null, true],
          nested: { 'é€😀': '"\\\n', z: {} },
        },
      },
    ],
  ];
  for (const [name, event] of cases) {
    it(name, () => {
      const row = toRow(event, 3, '42');
      const fromRow = leafHashOfRow(nodeHasher, row);
      // What ClickHouse returns: the stored columns (JSONEachRow text round trip).
      const stored = JSON.parse(JSON.stringify(row));
      const fromApi = leafHashOfEvent(nodeHasher, JSON.parse(JSON.stringify(rowToEvent(stored))));
      expect(toHex(fromApi)).toBe(toHex(fromRow));
    });
  }
});
