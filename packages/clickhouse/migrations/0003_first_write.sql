-- First write wins per (tenant_id, event_id) (docs/storage.md). `content_hash` is the SHA-256 of
-- what the producer sent (@audit/schema eventContentHash): equal → an identical resend, different →
-- a conflict that is never stored. `event_ids` is the id index the sink and ingest look ids up in:
-- sorted by (tenant_id, event_id), so a lookup reads a few granules whatever the events' timestamps,
-- and filled by a materialized view in the same INSERT as the events themselves.
ALTER TABLE {{database}}.events ADD COLUMN IF NOT EXISTS content_hash String DEFAULT '';
CREATE TABLE IF NOT EXISTS {{database}}.event_ids (
  tenant_id LowCardinality(String),
  event_id UUID,
  content_hash String,
  timestamp DateTime64(3, 'UTC'),
  kafka_partition UInt32,
  kafka_offset UInt64
) ENGINE = ReplacingMergeTree
ORDER BY (tenant_id, event_id)
TTL toDateTime(timestamp) + INTERVAL {{retention_days}} DAY;
CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.event_ids_mv TO {{database}}.event_ids AS
SELECT tenant_id, event_id, content_hash, timestamp, kafka_partition, kafka_offset FROM {{database}}.events;
