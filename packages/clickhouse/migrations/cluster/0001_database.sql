-- Cluster variant of services/sink/migrations/0001 (same version numbers, one file per version in
-- both directories). `{cluster}` is a ClickHouse macro (config.d/cluster.xml), not a template
-- placeholder: every node creates the database through the distributed DDL queue.
CREATE DATABASE IF NOT EXISTS {{database}} ON CLUSTER '{cluster}';
