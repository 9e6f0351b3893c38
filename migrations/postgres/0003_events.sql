-- Session events (issue 22): an outbox written in the transaction of the change each event
-- describes, so that an event exists exactly when its change committed.
--
-- PostgreSQL hands out `seq` when a row is written, not when its transaction commits, so a
-- reader that remembered "up to seq 10" could miss a seq 9 that committed after it read.
-- Each row therefore records its transaction's id (`txid`), and readers read only rows of
-- transactions older than every transaction still running (`pg_snapshot_xmin`), in
-- (txid, seq) order: nothing can commit behind that cursor any more.
CREATE TABLE single_login_events (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid    BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    id      TEXT   NOT NULL CONSTRAINT single_login_events_id_unique UNIQUE,
    at      BIGINT NOT NULL,
    type    TEXT   NOT NULL,
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
CREATE INDEX single_login_events_cursor ON single_login_events (txid, seq);
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

-- The seat-change notice carries when the change was made (`user@milliseconds`), so that
-- each process can measure how long notices take to reach it (the relay lag metric).
CREATE OR REPLACE FUNCTION single_login_seat_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify(
        'single_login_seats',
        NEW.user_id::text || '@' || floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint::text
    );
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
