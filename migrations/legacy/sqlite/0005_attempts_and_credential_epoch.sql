-- Password checks counted per bucket (see src/throttle.rs): failed logins per name and
-- client network, per account, every check per client network, failed re-authentications
-- per user. `key` is a SHA-256, so the table names nobody; a row is purged once
-- `expires_at` (the end of its window) has passed. Replaces login_failures.
CREATE TABLE attempts (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Whether the last attempt was counted (1) or refused (0): set by the same statement
    -- that counts, from the row as it was, so the caller learns it atomically.
    admitted BIGINT NOT NULL DEFAULT 1
);
DROP TABLE login_failures;

-- Changes whenever the account's credentials do (password change, disable): a login that
-- verified the password under an older epoch opens no seat.
ALTER TABLE users ADD COLUMN credential_epoch BIGINT NOT NULL DEFAULT 0;
