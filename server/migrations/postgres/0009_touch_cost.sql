-- The most frequent write is a session's last use (once a minute per active
-- session, batched). An index on last_seen_at made each of those writes
-- update an index too (and, on PostgreSQL, every index of the row: no HOT
-- update is possible when an indexed column changes). Its only reader was
-- the purge of idle sessions, once a minute, which now scans instead.
DROP INDEX sessions_by_last_seen;
-- Room on each page for the new row version, so a touch stays on its page
-- (a heap-only update that writes no index).
ALTER TABLE sessions SET (fillfactor = 80);
