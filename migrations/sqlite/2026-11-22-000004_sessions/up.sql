-- Sessions: series on a recurrence rule, their materialised occurrences and one-off sessions,
-- RSVPs, attendance, action items; and each cohort's agenda template.

ALTER TABLE cohorts ADD COLUMN agenda_template TEXT;

CREATE TABLE session_series (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    rrule TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    local_time TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    location TEXT NOT NULL,
    -- Occurrences from this local start on belong to a later series (set when the series is split).
    ends_before TEXT,
    -- Occurrences are stored up to this local date-time; a daily job extends it.
    materialized_until TEXT NOT NULL,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX session_series_cohort_created ON session_series(cohort_id, created_at, id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    series_id TEXT REFERENCES session_series(id) ON DELETE SET NULL,
    -- The local start the series' rule gave this occurrence; it never changes, so regenerating
    -- finds the occurrence again whatever was moved.
    occurrence_key TEXT,
    title TEXT NOT NULL,
    location TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'moved', 'cancelled')),
    cancel_reason TEXT,
    agenda TEXT NOT NULL,
    notes TEXT NOT NULL,
    notes_published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sessions_series_occurrence ON sessions(series_id, occurrence_key) WHERE series_id IS NOT NULL;
CREATE INDEX sessions_cohort_starts ON sessions(cohort_id, starts_at, id);
CREATE INDEX sessions_starts ON sessions(starts_at, id);

CREATE TABLE session_rsvps (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    response TEXT NOT NULL CHECK (response IN ('yes', 'no', 'maybe')),
    note TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX session_rsvps_user ON session_rsvps(user_id, session_id);

CREATE TABLE session_attendance (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('present', 'late', 'absent')),
    recorded_by TEXT,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (session_id, user_id)
);

CREATE TABLE session_action_items (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    owner_id TEXT,
    due_on TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX session_action_items_session ON session_action_items(session_id, position);
