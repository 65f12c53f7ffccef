import { EVENT_COLUMNS, rowToEvent } from '@audit/clickhouse';
import { FILTER_COLUMNS } from '@audit/filters';
import { COMMON_FIELDS, DETAILS_NODE_TYPES, OPTIONAL_STRING_FIELDS } from '@audit/schema';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from './openapi.ts';

const eventDoc = openApiDocument.components.schemas.AuditEvent as {
  properties: Record<string, { type?: string; format?: string }>;
  required: string[];
  additionalProperties: boolean;
};

describe('the AuditEvent schema of /openapi.json (derived from packages/schema)', () => {
  it('has exactly the columns an event is rebuilt from, the optional fields not required', () => {
    expect(Object.keys(eventDoc.properties).sort()).toEqual([...EVENT_COLUMNS].sort());
    const optional: readonly string[] = OPTIONAL_STRING_FIELDS;
    expect([...eventDoc.required].sort()).toEqual(EVENT_COLUMNS.filter((c) => !optional.includes(c)).sort());
    expect(eventDoc.additionalProperties).toBe(false);
    expect(eventDoc.properties.event_id).toMatchObject({ type: 'string', format: 'uuid' });
    expect(eventDoc.properties.schema_version).toMatchObject({ type: 'integer' });
    expect(eventDoc.properties.event_details).toMatchObject({ type: 'object' });
  });

  it('describes what rowToEvent returns: every key known, every required key present', () => {
    const full = rowToEvent({
      ...Object.fromEntries(EVENT_COLUMNS.map((c) => [c, 'x'])),
      event_id: '018f0000-0000-7000-8000-000000000000',
      timestamp: '2026-01-02 03:04:05.678',
      received_at: '2026-01-02 03:04:06.000',
      schema_version: 1,
      event_details: '{}',
    } as Parameters<typeof rowToEvent>[0]);
    expect(Object.keys(full).sort()).toEqual(Object.keys(eventDoc.properties).sort());
  });

  it('filters on the common fields with the types the contract gives them', () => {
    expect([...FILTER_COLUMNS.keys()]).toEqual(COMMON_FIELDS.filter((f) => f !== 'tenant_id'));
    expect(FILTER_COLUMNS.get('event_id')).toMatchObject({ type: 'uuid', optional: false });
    expect(FILTER_COLUMNS.get('schema_version')).toMatchObject({ type: 'uint', optional: false });
    expect(FILTER_COLUMNS.get('ip')).toMatchObject({ type: 'string', optional: true });
    expect(FILTER_COLUMNS.get('user_id')).toMatchObject({ type: 'string', optional: false });
  });

  it('lists the details node types a stats group can have', () => {
    const stats =
      openApiDocument.paths['/events/stats'].get.responses[200].content['application/json'].schema;
    expect(stats.oneOf[1].properties.groups.items.properties.type.enum).toEqual([
      ...DETAILS_NODE_TYPES,
      'missing',
    ]);
  });
});
