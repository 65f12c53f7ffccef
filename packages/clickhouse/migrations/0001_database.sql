-- The database of the audit trail. The migration runner creates it before reading its own
-- bookkeeping table; this file records it as version 1.
CREATE DATABASE IF NOT EXISTS {{database}};
