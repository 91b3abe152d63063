-- The reminder engine's notifications: one row per (kind, subject, recipient, occurrence), by its
-- unique key, written when it is planned (well before it falls due) and turned into a queued mail
-- when it does. status: planned -> queued (mail_id names the mail) | withdrawn | skipped.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    cohort_id TEXT REFERENCES cohorts(id) ON DELETE CASCADE,
    subject_id TEXT NOT NULL,
    -- When the thing it is about happens (a session's start), if it has a time.
    occurs_at TIMESTAMP,
    planned_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('planned', 'queued', 'withdrawn', 'skipped')),
    -- Why it was withdrawn or skipped.
    reason TEXT,
    -- What the event told (JSON), for the mail.
    data TEXT NOT NULL,
    mail_id TEXT,
    created_at TIMESTAMP NOT NULL,
    queued_at TIMESTAMP,
    read_at TIMESTAMP
);
-- The dispatcher's claim: planned rows by due time.
CREATE INDEX notifications_due ON notifications (planned_at) WHERE status = 'planned';
-- /me/notifications, newest first.
CREATE INDEX notifications_of_user ON notifications (user_id, planned_at, id);
-- The planner's "what is stored for these occurrences".
CREATE INDEX notifications_by_occurrence ON notifications (occurs_at) WHERE status = 'planned';

-- How far each stream consumer has read the event stream; advanced only by a conditional update
-- in the transaction that writes what it read, so two replicas never both act on an event.
CREATE TABLE stream_cursors (
    name TEXT PRIMARY KEY NOT NULL,
    seq INTEGER NOT NULL
);

-- Mailing-list headers for notification mail (RFC 2919 List-Id, RFC 8058 one-click unsubscribe).
ALTER TABLE outbound_mail ADD COLUMN list_id TEXT;
ALTER TABLE outbound_mail ADD COLUMN unsubscribe_url TEXT;

-- The notifier starts at the end of the stream: what happened before it existed is not mailed.
INSERT INTO stream_cursors (name, seq) SELECT 'notifications', COALESCE(MAX(seq), 0) FROM events;
