-- Each member's choices per notification kind (a row only where they chose; the rest is the
-- kind's default), and their digest mode and quiet hours.
CREATE TABLE notification_preferences (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    email BOOLEAN NOT NULL,
    -- Minutes before, largest first, comma-separated; NULL for kinds without lead times.
    lead_minutes TEXT,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, kind)
);

CREATE TABLE notification_settings (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    digest TEXT NOT NULL CHECK (digest IN ('off', 'daily', 'weekly')),
    -- HH:MM in the member's own time zone; both or neither.
    quiet_start TEXT,
    quiet_end TEXT,
    updated_at TIMESTAMP NOT NULL
);
