-- Failed logins per client IP and username, shared by every server process. `key` is the
-- SHA-256 of both, so the table names nobody; rows whose window has passed are purged.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures BIGINT NOT NULL
);
