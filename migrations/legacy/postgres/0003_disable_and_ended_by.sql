-- Accounts an operator disabled cannot log in.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
-- For a `revoked` seat: the session that ended it (the user, from /sessions or a password
-- change); NULL means an operator.
ALTER TABLE seats ADD COLUMN ended_by BIGINT REFERENCES seats (id) ON DELETE SET NULL;
