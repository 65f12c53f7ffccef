-- Cluster variant of services/sink/migrations/0002: the same columns and indexes (a unit test
-- compares them) in `events_local`, one ReplicatedReplacingMergeTree per shard (its replicas
-- share the Keeper path /clickhouse/tables/{shard}/...), and `events`, a Distributed table over
-- it, so the sink and the query API keep using `{{database}}.events` unchanged.
-- Replicated tables deduplicate retried inserts by insert_deduplication_token within
-- replicated_deduplication_window (per shard); duplicates of one event_id land on the same
-- shard (the sharding key hashes tenant_id and event_id), so FINAL still collapses them.
CREATE TABLE IF NOT EXISTS {{database}}.events_local ON CLUSTER '{cluster}' (
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
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{{database}}/events_local', '{replica}')
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant_id, timestamp, event_id)
TTL toDateTime(timestamp) + INTERVAL {{retention_days}} DAY
SETTINGS replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
-- Reads fan out to one replica of every shard; writes are split by the sharding key. The writer
-- profile sets distributed_foreground_insert=1 (users.xml next to this file), so an insert is
-- acknowledged only after every shard stored its part: the sink commits offsets after that.
CREATE TABLE IF NOT EXISTS {{database}}.events ON CLUSTER '{cluster}' AS {{database}}.events_local
ENGINE = Distributed('{cluster}', {{database}}, events_local, cityHash64(tenant_id, event_id));
