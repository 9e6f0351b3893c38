-- A per-user override of the configured max_sessions, set by an operator; NULL = the default.
ALTER TABLE users ADD COLUMN max_sessions INTEGER CHECK (max_sessions >= 1);
