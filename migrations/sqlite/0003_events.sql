-- Session events (issue 22): an outbox written in the transaction of the change each event
-- describes, so that an event exists exactly when its change committed. SQLite runs one
-- writer at a time, so `seq` is commit order and a reader's cursor on it misses nothing.
CREATE TABLE single_login_events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Always 0 on SQLite; on PostgreSQL the writing transaction's id (see there).
    txid    BIGINT  NOT NULL DEFAULT 0,
    id      TEXT    NOT NULL CONSTRAINT single_login_events_id_unique UNIQUE,
    at      BIGINT  NOT NULL,
    type    TEXT    NOT NULL,
    -- No foreign keys: the record of an account or a seat outlives it.
    user_id BIGINT,
    seat_id BIGINT,
    device  TEXT,
    network TEXT,
    agent   TEXT,
    reason  TEXT,
    by_whom TEXT
);
CREATE INDEX single_login_events_at ON single_login_events (at);
CREATE INDEX single_login_events_by_user ON single_login_events (user_id, seq) WHERE user_id IS NOT NULL;

-- Durable readers of the events (the webhook delivery): where each has read up to, and which
-- process may read now (a lease, so that one process delivers at a time).
CREATE TABLE single_login_event_readers (
    name        TEXT   PRIMARY KEY,
    txid        BIGINT NOT NULL DEFAULT 0,
    seq         BIGINT NOT NULL DEFAULT 0,
    holder      TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0
);
