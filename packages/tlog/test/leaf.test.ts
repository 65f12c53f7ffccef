import { describe, expect, it } from 'vitest';
import {
  canonicalTime,
  fieldsFromEvent,
  fieldsFromRow,
  fromUtf8,
  leafData,
  leafHashOfEvent,
  leafHashOfRow,
  sha256,
  TreeHasher,
  toHex,
} from '../src/index.ts';

const h = new TreeHasher(sha256);

const row = {
  tenant_id: 'acme',
  event_id: '0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B',
  event_type: 'customer.billed',
  timestamp: '2026-11-27 12:00:00.000',
  received_at: '2026-11-27 12:00:00.123',
  user_id: 'cust-42',
  source: 'billing',
  actor_type: '',
  resource_type: 'invoice',
  resource_id: 'inv-1',
  action: '',
  outcome: '',
  ip: '',
  user_agent: '',
  schema_version: 1,
  event_details: '{"amount":12.5,"invoice":{"id":"inv-1"}}',
};

describe('leaf data (docs/integrity.md)', () => {
  it('is the canonical JSON of every stored field, details as the SHA-256 of their text', () => {
    const text = fromUtf8(leafData(fieldsFromRow(row, sha256)));
    expect(text).toBe(
      '{"action":"","actor_type":"","event_details_sha256":"' +
        toHex(sha256(new TextEncoder().encode(row.event_details))) +
        '","event_id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","event_type":"customer.billed","ip":"","leaf_version":1,' +
        '"outcome":"","received_at":"2026-11-27T12:00:00.123Z","resource_id":"inv-1","resource_type":"invoice",' +
        '"schema_version":1,"source":"billing","tenant_id":"acme","timestamp":"2026-11-27T12:00:00.000Z",' +
        '"user_agent":"","user_id":"cust-42"}',
    );
  });

  it('is the same from the stored row and from the event the API returns', () => {
    const event = {
      tenant_id: 'acme',
      event_id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      event_type: 'customer.billed',
      timestamp: '2026-11-27T12:00:00.000Z',
      received_at: '2026-11-27T12:00:00.123Z',
      user_id: 'cust-42',
      source: 'billing',
      resource_type: 'invoice',
      resource_id: 'inv-1',
      schema_version: 1,
      event_details: JSON.parse(row.event_details),
    };
    expect(fieldsFromEvent(event, sha256)).toEqual(fieldsFromRow(row, sha256));
    expect(toHex(leafHashOfEvent(h, event))).toBe(toHex(leafHashOfRow(h, row)));
    // Any field, and any value inside the details, changes the leaf.
    expect(toHex(leafHashOfEvent(h, { ...event, outcome: 'success' }))).not.toBe(
      toHex(leafHashOfRow(h, row)),
    );
    const details = { amount: 12.5, invoice: { id: 'inv-2' } };
    expect(toHex(leafHashOfEvent(h, { ...event, event_details: details }))).not.toBe(
      toHex(leafHashOfRow(h, row)),
    );
  });

  it('normalises both time notations', () => {
    expect(canonicalTime('2026-01-02 03:04:05.600')).toBe('2026-01-02T03:04:05.600Z');
    expect(canonicalTime('2026-01-02T03:04:05.6Z')).toBe('2026-01-02T03:04:05.600Z');
    expect(canonicalTime('2026-01-02 03:04:05')).toBe('2026-01-02T03:04:05.000Z');
    expect(() => canonicalTime('2026-01-02T03:04:05+02:00')).toThrow('not a UTC timestamp');
  });
});
