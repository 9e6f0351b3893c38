-- The admin role (issue 23): granted and revoked by the operator's command line only.
ALTER TABLE single_login_users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1));
-- What an administrator did, in an `admin_action` event.
ALTER TABLE single_login_events ADD COLUMN action TEXT;
-- The console's per-hour counts read the last day by time and type.
CREATE INDEX single_login_events_type_at ON single_login_events (type, at);
