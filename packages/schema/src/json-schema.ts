import { z } from 'zod';
import { auditEventSchema } from './event-schema.ts';

export const JSON_SCHEMA_ID = 'https://audit.local/schemas/event.schema.json';

/**
 * JSON Schema (draft 2020-12) of the Kafka message value, for producers writing straight to
 * Kafka. Limits JSON Schema cannot express (event_details depth, key count, NUL, ...) are in
 * the descriptions and enforced by the consumer.
 */
export function eventJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(auditEventSchema, {
    io: 'input',
    target: 'draft-2020-12',
  });
  return { $schema: generated.$schema, $id: JSON_SCHEMA_ID, ...generated };
}

/** The checked-in file's exact text. */
export function eventJsonSchemaText(): string {
  return `${JSON.stringify(eventJsonSchema(), null, 2)}\n`;
}
