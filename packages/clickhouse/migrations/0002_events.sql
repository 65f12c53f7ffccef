-- The audit trail. Common fields are typed columns; event_details is kept twice: flattened into a
-- Map for filtering (bloom-filter indexes on keys and values) and as JSON text for returning the
-- event. ReplacingMergeTree on (tenant_id, timestamp, event_id) collapses duplicates of one
-- event_id under FINAL; the deduplication window makes a retried sink batch (same
-- insert_deduplication_token) a no-op. Retention is rendered from the validated RETENTION_DAYS.
CREATE TABLE IF NOT EXISTS {{database}}.events (
  tenant_id LowCardinality(String),
  event_id UUID,
  event_type LowCardinality(String),
  timestamp DateTime64(3, 'UTC'),
  received_at DateTime64(3, 'UTC'),
  user_id String,
  source LowCardinality(String),
  actor_type LowCardinality(String) DEFAULT '',
  resource_type LowCardinality(String) DEFAULT '',
  resource_id String DEFAULT '',
  action LowCardinality(String) DEFAULT '',
  outcome LowCardinality(String) DEFAULT '',
  ip String DEFAULT '',
  user_agent String DEFAULT '',
  schema_version UInt16 DEFAULT 1,
  details Map(LowCardinality(String), String),
  event_details String CODEC(ZSTD(3)),
  kafka_partition UInt32 DEFAULT 0,
  kafka_offset UInt64 DEFAULT 0,
  INDEX idx_details_keys mapKeys(details) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_details_values mapValues(details) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_resource_id resource_id TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant_id, timestamp, event_id)
TTL toDateTime(timestamp) + INTERVAL {{retention_days}} DAY
SETTINGS non_replicated_deduplication_window = 10000;
