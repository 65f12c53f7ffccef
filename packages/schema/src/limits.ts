/**
 * Every limit of the event contract, in one place so the error messages, the JSON Schema, the
 * README and the tests all quote the same numbers.
 */
export const LIMITS = {
  /** Compact JSON of one event as sent (HTTP body item), in UTF-8 bytes. */
  MAX_EVENT_BYTES: 65_536,
  /**
   * A Kafka message value may exceed MAX_EVENT_BYTES by the fields the service adds (event_id,
   * received_at, tenant_id, source, normalized timestamp), so an event accepted over HTTP is never
   * rejected by the sink for size.
   */
  MAX_MESSAGE_BYTES: 65_536 + 2_048,
  /** Levels of objects/arrays in event_details, event_details itself being level 1. */
  MAX_DETAILS_DEPTH: 8,
  /** Object keys plus array elements in event_details, all levels: bounds the flattened map. */
  MAX_DETAILS_KEYS: 512,
  /** Characters of one key in event_details. */
  MAX_KEY_LENGTH: 128,
  /** Characters of any string value in event_details. */
  MAX_STRING_LENGTH: 8_192,
  /** Characters of user_id, tenant_id, source, actor_type, resource_type, resource_id, action, outcome. */
  MAX_FIELD_LENGTH: 256,
  MAX_EVENT_TYPE_LENGTH: 128,
  MAX_USER_AGENT_LENGTH: 512,
  /** Nesting of any JSON text parseJson accepts (checked before parsing). */
  MAX_JSON_DEPTH: 64,
  /** Numbers in event_details beyond this lose precision as doubles (and in ClickHouse): send them as strings. */
  MAX_SAFE_NUMBER: Number.MAX_SAFE_INTEGER,
  /**
   * Timestamps must fall in [1970-01-01, 2106-01-01): the storage TTL converts them to DateTime,
   * whose range ends in February 2106.
   */
  MIN_TIMESTAMP_MS: 0,
  MAX_TIMESTAMP_MS: Date.UTC(2106, 0, 1) - 1,
  /**
   * How far ahead of the receiving server's clock a timestamp may be (producer clock skew, a
   * wrong time zone). Beyond it the event is refused: the storage TTL adds the retention to the
   * timestamp in a DateTime (UInt32 seconds, ends 2106-02-07T06:28:15Z), which wraps to 1970 for
   * a timestamp within the retention of that end, and the row is then deleted as it is inserted.
   */
  MAX_FUTURE_SKEW_MS: 86_400_000,
  /** The last second a ClickHouse DateTime holds; a TTL past it wraps around to 1970. */
  DATETIME_MAX_MS: 4_294_967_295_000,
  MAX_SCHEMA_VERSION: 65_535,
} as const;

/** Lower-case dotted words, e.g. `customer.account.created`. */
export const EVENT_TYPE_RE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

/**
 * Event types of the system's own records (e.g. the query API's read audit), which only the
 * services write, onto the events topic: a tenant's own topic may not carry them.
 */
export const RESERVED_EVENT_TYPE_PREFIX = 'audit.';
export const isReservedEventType = (type: string) => type.startsWith(RESERVED_EVENT_TYPE_PREFIX);

/**
 * Longest path of a node of event_details: one key per level, every key as long as allowed,
 * joined by '.'. A filter on a longer path can never match.
 */
export const MAX_DETAILS_PATH_LENGTH = LIMITS.MAX_DETAILS_DEPTH * (LIMITS.MAX_KEY_LENGTH + 1) - 1;

/** Canonical 8-4-4-4-12 hex, any version or variant (ClickHouse stores any 128-bit value). */
export const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Filterable common columns, in the order serializeEvent writes the optional ones. */
export const COMMON_FIELDS = [
  'event_id',
  'event_type',
  'user_id',
  'tenant_id',
  'source',
  'actor_type',
  'resource_type',
  'resource_id',
  'action',
  'outcome',
  'ip',
  'user_agent',
  'schema_version',
] as const;

export type CommonField = (typeof COMMON_FIELDS)[number];

/** Optional string columns, in COMMON_FIELDS order. */
export const OPTIONAL_STRING_FIELDS = [
  'actor_type',
  'resource_type',
  'resource_id',
  'action',
  'outcome',
  'ip',
  'user_agent',
] as const;

/** Keys that would reach an object prototype if assigned naively. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
