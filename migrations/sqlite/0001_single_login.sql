-- single-login's whole schema. Every name starts with `single_login_`, and the history of
-- these migrations is kept in `single_login_migrations` (src/db/migrate.rs), so the library
-- shares a database with an application that has its own `users` table and its own sqlx
-- migrations.

-- Accounts: the library's own users, or the ids of an application's users it adopted.
CREATE TABLE single_login_users (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    username         TEXT    NOT NULL,
    -- NFKC-normalised and lower-cased: decides uniqueness.
    username_key     TEXT    NOT NULL CONSTRAINT single_login_users_username_key_unique UNIQUE,
    password_hash    TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    max_sessions     INTEGER CHECK (max_sessions >= 1),
    disabled_at      INTEGER,
    credential_epoch BIGINT  NOT NULL DEFAULT 0
);

-- The session-seat registry: one row per login.
CREATE TABLE single_login_seats (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES single_login_users (id) ON DELETE CASCADE,
    -- SHA-256 of the session id: a leaked table does not hand out live cookies.
    session_hash TEXT    NOT NULL CONSTRAINT single_login_seats_session_hash_unique UNIQUE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    client_ip    TEXT,
    user_agent   TEXT,
    ended_at     INTEGER,
    end_reason   TEXT CHECK (end_reason IN ('replaced', 'logged_out', 'revoked', 'expired')),
    replaced_by  INTEGER REFERENCES single_login_seats (id) ON DELETE SET NULL,
    ended_by     INTEGER REFERENCES single_login_seats (id) ON DELETE SET NULL,
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);

CREATE INDEX single_login_seats_live_by_user ON single_login_seats (user_id) WHERE ended_at IS NULL;
CREATE INDEX single_login_seats_ended_at ON single_login_seats (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX single_login_seats_replaced_by ON single_login_seats (replaced_by) WHERE replaced_by IS NOT NULL;
CREATE INDEX single_login_seats_ended_by ON single_login_seats (ended_by) WHERE ended_by IS NOT NULL;
CREATE INDEX single_login_seats_ended_by_user ON single_login_seats (user_id, ended_at, id)
    WHERE ended_at IS NOT NULL;

-- Throttle buckets: attempts per key in a window.
CREATE TABLE single_login_attempts (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    -- Whether the last attempt was counted (1) or refused (0): set by the same statement
    -- that counts, from the row as it was, so the caller learns it atomically.
    admitted     BIGINT NOT NULL DEFAULT 1
);

-- Keys for signed cookies, made at the first start and shared by every process.
CREATE TABLE single_login_signing_keys (
    name TEXT PRIMARY KEY,
    key  TEXT NOT NULL
);
