-- Every server process hears of a change to a user's seats (a login, an end) through
-- NOTIFY on 'single_login_seats' with the user's id (src/changes.rs). Sent by a trigger, the
-- notice is part of the transaction that makes the change: it is delivered exactly when the
-- change commits, and never for a change that rolled back. Touches and rekeys are not
-- changes anyone waits for.
CREATE FUNCTION single_login_seat_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('single_login_seats', NEW.user_id::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER seats_changed
    AFTER INSERT OR UPDATE OF ended_at ON seats
    FOR EACH ROW EXECUTE FUNCTION single_login_seat_changed();
