-- From the history kept in sqlx's `_sqlx_migrations` (migrations/legacy/postgres,
-- 0001-0007) to `migrations/postgres/0001_single_login.sql`: the same schema under the
-- library's own names. Indexes, constraints' indexes and identity sequences share the
-- schema's namespace with tables, so they are renamed too.
ALTER TABLE users RENAME TO single_login_users;
ALTER TABLE seats RENAME TO single_login_seats;
ALTER TABLE attempts RENAME TO single_login_attempts;
ALTER TABLE signing_keys RENAME TO single_login_signing_keys;
ALTER INDEX users_pkey RENAME TO single_login_users_pkey;
ALTER INDEX seats_pkey RENAME TO single_login_seats_pkey;
ALTER INDEX attempts_pkey RENAME TO single_login_attempts_pkey;
ALTER INDEX signing_keys_pkey RENAME TO single_login_signing_keys_pkey;
ALTER TABLE single_login_users RENAME CONSTRAINT users_username_key_unique
    TO single_login_users_username_key_unique;
ALTER TABLE single_login_seats RENAME CONSTRAINT seats_session_hash_unique
    TO single_login_seats_session_hash_unique;
ALTER SEQUENCE users_id_seq RENAME TO single_login_users_id_seq;
ALTER SEQUENCE seats_id_seq RENAME TO single_login_seats_id_seq;
ALTER INDEX seats_live_by_user RENAME TO single_login_seats_live_by_user;
ALTER INDEX seats_ended_at RENAME TO single_login_seats_ended_at;
ALTER INDEX seats_replaced_by RENAME TO single_login_seats_replaced_by;
ALTER INDEX seats_ended_by RENAME TO single_login_seats_ended_by;
ALTER INDEX seats_ended_by_user RENAME TO single_login_seats_ended_by_user;
ALTER TRIGGER seats_changed ON single_login_seats RENAME TO single_login_seats_changed;
