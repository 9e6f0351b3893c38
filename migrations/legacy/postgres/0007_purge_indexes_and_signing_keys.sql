-- The purge deletes ended seats; each deleted row sets the keys that point at it to NULL.
-- Without these indexes every deleted row scanned the whole table for each key, under
-- SQLite's write lock (O(deleted x table)). The history of one user reads its ended seats
-- newest first.
CREATE INDEX seats_replaced_by ON seats (replaced_by) WHERE replaced_by IS NOT NULL;
CREATE INDEX seats_ended_by ON seats (ended_by) WHERE ended_by IS NOT NULL;
CREATE INDEX seats_ended_by_user ON seats (user_id, ended_at, id) WHERE ended_at IS NOT NULL;

-- Keys for values the server signs and later checks (src/signing.rs): made once, at the
-- first start, and shared by every process on this database. Hex text.
CREATE TABLE signing_keys (
    name TEXT PRIMARY KEY,
    key  TEXT NOT NULL
);
