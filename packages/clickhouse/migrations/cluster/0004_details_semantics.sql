-- Cluster variant of services/sink/migrations/0004: the same column on every shard's
-- events_local and on the Distributed events table over it (a Distributed table needs the
-- column to read or write it); the index only where the data is.
ALTER TABLE {{database}}.events_local ON CLUSTER '{cluster}'
  ADD COLUMN IF NOT EXISTS details_type Map(LowCardinality(String), Enum8('' = 0, 'string' = 1, 'number' = 2, 'boolean' = 3, 'null' = 4, 'object' = 5, 'array' = 6))
  DEFAULT mapApply((k, v) -> (k, multiIf(v = 'null', 'null', v IN ('true', 'false'), 'boolean', match(v, '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$'), 'number', 'string')), details)
  AFTER details;

ALTER TABLE {{database}}.events ON CLUSTER '{cluster}'
  ADD COLUMN IF NOT EXISTS details_type Map(LowCardinality(String), Enum8('' = 0, 'string' = 1, 'number' = 2, 'boolean' = 3, 'null' = 4, 'object' = 5, 'array' = 6))
  DEFAULT mapApply((k, v) -> (k, multiIf(v = 'null', 'null', v IN ('true', 'false'), 'boolean', match(v, '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$'), 'number', 'string')), details)
  AFTER details;

ALTER TABLE {{database}}.events_local ON CLUSTER '{cluster}'
  ADD INDEX IF NOT EXISTS idx_details_type_keys mapKeys(details_type) TYPE bloom_filter(0.01) GRANULARITY 1;
