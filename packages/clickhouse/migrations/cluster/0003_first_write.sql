-- Cluster variant of services/sink/migrations/0003: the id index per shard (`event_ids_local`,
-- filled from `events_local` on the same shard: the sharding key hashes tenant_id and event_id, so
-- every copy of one id lands on one shard) and a Distributed `event_ids` over it for lookups.
ALTER TABLE {{database}}.events_local ON CLUSTER '{cluster}' ADD COLUMN IF NOT EXISTS content_hash String DEFAULT '';
ALTER TABLE {{database}}.events ON CLUSTER '{cluster}' ADD COLUMN IF NOT EXISTS content_hash String DEFAULT '';
CREATE TABLE IF NOT EXISTS {{database}}.event_ids_local ON CLUSTER '{cluster}' (
  tenant_id LowCardinality(String),
  event_id UUID,
  content_hash String,
  timestamp DateTime64(3, 'UTC'),
  kafka_partition UInt32,
  kafka_offset UInt64
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{{database}}/event_ids_local', '{replica}')
ORDER BY (tenant_id, event_id)
TTL toDateTime(timestamp) + INTERVAL {{retention_days}} DAY;
CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.event_ids_mv ON CLUSTER '{cluster}' TO {{database}}.event_ids_local AS
SELECT tenant_id, event_id, content_hash, timestamp, kafka_partition, kafka_offset FROM {{database}}.events_local;
CREATE TABLE IF NOT EXISTS {{database}}.event_ids ON CLUSTER '{cluster}' AS {{database}}.event_ids_local
ENGINE = Distributed('{cluster}', {{database}}, event_ids_local, cityHash64(tenant_id, event_id));
