-- Device kinds, groups and limits as text (issue 21): each seat records the kind of device
-- its login came from; a user's own limit and a group's limit are `Limits` in their text
-- form (`unlimited`, `4`, `2,phone=1,computer=1`, src/policy.rs); a lowered limit ends
-- seats with the new reason `limit_lowered`.

CREATE TABLE single_login_groups (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL CONSTRAINT single_login_groups_name_unique UNIQUE,
    limits     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

ALTER TABLE single_login_users ADD COLUMN limits TEXT;
ALTER TABLE single_login_users
    ADD COLUMN group_id INTEGER REFERENCES single_login_groups (id) ON DELETE SET NULL;
UPDATE single_login_users SET limits = CAST(max_sessions AS TEXT) WHERE max_sessions IS NOT NULL;
ALTER TABLE single_login_users DROP COLUMN max_sessions;
CREATE INDEX single_login_users_group ON single_login_users (group_id) WHERE group_id IS NOT NULL;

-- SQLite cannot change a CHECK in place: the seats move to a new table. The old one is
-- renamed first, which renames its own references to itself, so that dropping it sets
-- nothing NULL in the new one. Ids stay (signed cookies name seats), and so does the
-- AUTOINCREMENT high-water mark, so that a purged seat's id is never handed out again.
ALTER TABLE single_login_seats RENAME TO single_login_seats_0001;

CREATE TABLE single_login_seats (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES single_login_users (id) ON DELETE CASCADE,
    -- SHA-256 of the session id: a leaked table does not hand out live cookies.
    session_hash TEXT    NOT NULL CONSTRAINT single_login_seats_session_hash_unique UNIQUE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    client_ip    TEXT,
    user_agent   TEXT,
    -- The device kind of the login (src/device.rs); NULL for seats opened before kinds,
    -- whose kind is read from their user agent.
    kind         TEXT CHECK (kind IN ('computer', 'phone', 'tablet', 'other')),
    ended_at     INTEGER,
    end_reason   TEXT CHECK (end_reason IN ('replaced', 'logged_out', 'revoked', 'expired', 'limit_lowered')),
    replaced_by  INTEGER REFERENCES single_login_seats (id) ON DELETE SET NULL,
    ended_by     INTEGER REFERENCES single_login_seats (id) ON DELETE SET NULL,
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);

INSERT INTO single_login_seats (id, user_id, session_hash, created_at, last_seen_at, client_ip,
                                user_agent, ended_at, end_reason, replaced_by, ended_by)
    SELECT id, user_id, session_hash, created_at, last_seen_at, client_ip, user_agent, ended_at,
           end_reason, replaced_by, ended_by
    FROM single_login_seats_0001;

INSERT INTO sqlite_sequence (name, seq)
    SELECT 'single_login_seats', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'single_login_seats');
UPDATE sqlite_sequence
    SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'single_login_seats_0001'), 0))
    WHERE name = 'single_login_seats';

DROP TABLE single_login_seats_0001;

CREATE INDEX single_login_seats_live_by_user ON single_login_seats (user_id) WHERE ended_at IS NULL;
CREATE INDEX single_login_seats_ended_at ON single_login_seats (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX single_login_seats_replaced_by ON single_login_seats (replaced_by) WHERE replaced_by IS NOT NULL;
CREATE INDEX single_login_seats_ended_by ON single_login_seats (ended_by) WHERE ended_by IS NOT NULL;
CREATE INDEX single_login_seats_ended_by_user ON single_login_seats (user_id, ended_at, id)
    WHERE ended_at IS NOT NULL;
