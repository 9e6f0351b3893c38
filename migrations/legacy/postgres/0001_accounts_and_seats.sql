-- Accounts, and the session-seat registry: one row per login.
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT   NOT NULL,
    -- NFKC-normalised and lower-cased: decides uniqueness.
    username_key  TEXT   NOT NULL CONSTRAINT users_username_key_unique UNIQUE,
    password_hash TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE seats (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the session id: a leaked table does not hand out live cookies.
    session_hash TEXT   NOT NULL CONSTRAINT seats_session_hash_unique UNIQUE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    client_ip    TEXT,
    user_agent   TEXT,
    ended_at     BIGINT,
    end_reason   TEXT CHECK (end_reason IN ('replaced', 'logged_out', 'revoked', 'expired')),
    replaced_by  BIGINT REFERENCES seats (id) ON DELETE SET NULL,
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);

CREATE INDEX seats_live_by_user ON seats (user_id) WHERE ended_at IS NULL;
CREATE INDEX seats_ended_at ON seats (ended_at) WHERE ended_at IS NOT NULL;
