/**
 * The `audit.events` table as the services see it: the sink writes `StoredEventRow`s, the query
 * API reads `EventRow`s back. One definition, so a column added by a migration is added here once.
 */

const IDENT_RE = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;

/**
 * `<database>.events`, the one table the services read and write. The database comes from
 * validated config; it is checked again here because an identifier cannot be a query parameter.
 */
export function eventsTable(database: string): string {
  if (!IDENT_RE.test(database)) throw new Error(`bad database name: ${database}`);
  return `${database}.events`;
}

/** The columns an event is rebuilt from, in the contract's order (`event_details` is JSON text). */
export const EVENT_COLUMNS = [
  'event_id',
  'event_type',
  'timestamp',
  'received_at',
  'tenant_id',
  'user_id',
  'source',
  'actor_type',
  'resource_type',
  'resource_id',
  'action',
  'outcome',
  'ip',
  'user_agent',
  'schema_version',
  'event_details',
] as const;

/** A row of EVENT_COLUMNS as JSONEachRow returns it; optional fields are stored as ''. */
export type EventRow = {
  [K in (typeof EVENT_COLUMNS)[number]]: K extends 'schema_version' ? number : string;
};

/** A row as the sink inserts it: the event, its flattened details for filtering, its Kafka origin. */
export interface StoredEventRow extends EventRow {
  /** Leaf path → value as text (`details['customer.plan']`): detailsColumns(event_details).details. */
  details: Record<string, string>;
  /** eventContentHash(event): tells an identical resend from a conflicting one (first write wins). */
  content_hash: string;
  /** Path of every node (leaves, objects, arrays) → its JSON type: detailsColumns(event_details).details_type. */
  details_type: Record<string, string>;
  kafka_partition: number;
  kafka_offset: number;
}
