-- Device kinds, groups and limits as text (issue 21): each seat records the kind of device
-- its login came from; a user's own limit and a group's limit are `Limits` in their text
-- form (`unlimited`, `4`, `2,phone=1,computer=1`, src/policy.rs); a lowered limit ends
-- seats with the new reason `limit_lowered`.

CREATE TABLE single_login_groups (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT   NOT NULL CONSTRAINT single_login_groups_name_unique UNIQUE,
    limits     TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

ALTER TABLE single_login_users
    ADD COLUMN limits TEXT,
    ADD COLUMN group_id BIGINT REFERENCES single_login_groups (id) ON DELETE SET NULL;
UPDATE single_login_users SET limits = max_sessions::text WHERE max_sessions IS NOT NULL;
ALTER TABLE single_login_users DROP COLUMN max_sessions;
CREATE INDEX single_login_users_group ON single_login_users (group_id) WHERE group_id IS NOT NULL;

-- The device kind of the login (src/device.rs); NULL for seats opened before kinds, whose
-- kind is read from their user agent.
ALTER TABLE single_login_seats
    ADD COLUMN kind TEXT CHECK (kind IN ('computer', 'phone', 'tablet', 'other'));

-- The end reasons' CHECK, under its name from either history (a database renamed from the
-- legacy schema kept the old name).
ALTER TABLE single_login_seats
    DROP CONSTRAINT IF EXISTS seats_end_reason_check,
    DROP CONSTRAINT IF EXISTS single_login_seats_end_reason_check,
    ADD CONSTRAINT single_login_seats_end_reason_check
        CHECK (end_reason IN ('replaced', 'logged_out', 'revoked', 'expired', 'limit_lowered'));
