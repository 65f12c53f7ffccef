import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditEventSchema, eventInputSchema } from './event-schema.ts';
import { eventJsonSchema, eventJsonSchemaText } from './json-schema.ts';

describe('event.schema.json', () => {
  it('is up to date (run `pnpm --filter @audit/schema generate`)', () => {
    const checkedIn = readFileSync(new URL('../event.schema.json', import.meta.url), 'utf8');
    // Parsed, not text: the formatter may re-wrap the checked-in file.
    expect(JSON.parse(checkedIn)).toEqual(JSON.parse(eventJsonSchemaText()));
  });

  it('describes the Kafka message: strict, tenant_id required, limits included', () => {
    const s = eventJsonSchema() as {
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, Record<string, unknown>>;
    };
    expect(s.required).toEqual(['event_type', 'timestamp', 'user_id', 'tenant_id']);
    expect(s.additionalProperties).toBe(false);
    expect(s.properties['event_type']).toMatchObject({
      maxLength: 128,
      pattern: '^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*$',
    });
    expect(s.properties['timestamp']).toMatchObject({ format: 'date-time' });
    expect(s.properties['event_id']).toMatchObject({ format: 'uuid' });
    expect(s.properties['event_details']).toMatchObject({ type: 'object' });
    expect(s.properties['schema_version']).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 65535,
      default: 1,
    });
    expect(Object.keys(s.properties)).toContain('received_at');
  });
});

describe('JSON Schema of every exported schema', () => {
  it('generates with default options (as OpenAPI generators call it)', () => {
    for (const schema of [eventInputSchema, auditEventSchema]) {
      for (const io of ['input', 'output'] as const) {
        const s = z.toJSONSchema(schema, { io }) as { properties: Record<string, unknown> };
        expect(s.properties['event_details']).toMatchObject({ type: 'object', additionalProperties: {} });
      }
    }
  });
});
