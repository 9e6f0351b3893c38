-- From the history kept in sqlx's `_sqlx_migrations` (migrations/legacy/sqlite, 0001-0007)
-- to `migrations/sqlite/0001_single_login.sql`: the same schema under the library's own
-- names. SQLite moves the foreign keys, the AUTOINCREMENT counters and the unique
-- constraints' indexes with the tables; named indexes are made again.
ALTER TABLE users RENAME TO single_login_users;
ALTER TABLE seats RENAME TO single_login_seats;
ALTER TABLE attempts RENAME TO single_login_attempts;
ALTER TABLE signing_keys RENAME TO single_login_signing_keys;
DROP INDEX seats_live_by_user;
DROP INDEX seats_ended_at;
DROP INDEX seats_replaced_by;
DROP INDEX seats_ended_by;
DROP INDEX seats_ended_by_user;
CREATE INDEX single_login_seats_live_by_user ON single_login_seats (user_id) WHERE ended_at IS NULL;
CREATE INDEX single_login_seats_ended_at ON single_login_seats (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX single_login_seats_replaced_by ON single_login_seats (replaced_by) WHERE replaced_by IS NOT NULL;
CREATE INDEX single_login_seats_ended_by ON single_login_seats (ended_by) WHERE ended_by IS NOT NULL;
CREATE INDEX single_login_seats_ended_by_user ON single_login_seats (user_id, ended_at, id)
    WHERE ended_at IS NOT NULL;
