-- Calendar feeds (api/feeds): one secret feed URL per user (scope 'me') and per cohort an
-- organizer asked for (scope = the cohort's id). The secret is kept only as its SHA-256 hash;
-- asking again replaces the hash, so the old URL stops working at once.
CREATE TABLE calendar_feeds (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    cohort_id TEXT REFERENCES cohorts(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (user_id, scope)
);

-- The SEQUENCE of each VEVENT (RFC 5545): how many times what a feed shows of a session or an
-- experiment changed. Kept by the triggers below, in the transaction of the change itself, so no
-- code path that changes a session, a duty or an experiment can forget it.
CREATE TABLE feed_revisions (
    subject_id TEXT PRIMARY KEY NOT NULL,
    sequence INTEGER NOT NULL,
    changed_at TIMESTAMP NOT NULL
);

CREATE TRIGGER feed_session_changed AFTER UPDATE ON sessions
WHEN OLD.starts_at IS NOT NEW.starts_at OR OLD.ends_at IS NOT NEW.ends_at OR OLD.title IS NOT NEW.title
    OR OLD.location IS NOT NEW.location OR OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO feed_revisions (subject_id, sequence, changed_at) VALUES (NEW.id, 1, NEW.updated_at)
    ON CONFLICT (subject_id) DO UPDATE SET sequence = sequence + 1, changed_at = max(changed_at, excluded.changed_at);
END;

CREATE TRIGGER feed_duty_added AFTER INSERT ON assignments
BEGIN
    INSERT INTO feed_revisions (subject_id, sequence, changed_at) VALUES (NEW.session_id, 1, NEW.updated_at)
    ON CONFLICT (subject_id) DO UPDATE SET sequence = sequence + 1, changed_at = max(changed_at, excluded.changed_at);
END;

CREATE TRIGGER feed_duty_changed AFTER UPDATE ON assignments
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.role_id IS NOT NEW.role_id OR OLD.session_id IS NOT NEW.session_id
BEGIN
    INSERT INTO feed_revisions (subject_id, sequence, changed_at) VALUES (NEW.session_id, 1, NEW.updated_at)
    ON CONFLICT (subject_id) DO UPDATE SET sequence = sequence + 1, changed_at = max(changed_at, excluded.changed_at);
    INSERT INTO feed_revisions (subject_id, sequence, changed_at)
    SELECT OLD.session_id, 1, NEW.updated_at WHERE OLD.session_id IS NOT NEW.session_id
    ON CONFLICT (subject_id) DO UPDATE SET sequence = sequence + 1, changed_at = max(changed_at, excluded.changed_at);
END;

CREATE TRIGGER feed_duty_removed AFTER DELETE ON assignments
BEGIN
    INSERT INTO feed_revisions (subject_id, sequence, changed_at) VALUES (OLD.session_id, 1, OLD.updated_at)
    ON CONFLICT (subject_id) DO UPDATE SET sequence = sequence + 1, changed_at = max(changed_at, excluded.changed_at);
END;

CREATE TRIGGER feed_experiment_changed AFTER UPDATE ON experiments
WHEN OLD.title IS NOT NEW.title OR OLD.due_on IS NOT NEW.due_on OR OLD.due_session_id IS NOT NEW.due_session_id
    OR OLD.state IS NOT NEW.state OR OLD.cohort_id IS NOT NEW.cohort_id
BEGIN
    INSERT INTO feed_revisions (subject_id, sequence, changed_at) VALUES (NEW.id, 1, NEW.updated_at)
    ON CONFLICT (subject_id) DO UPDATE SET sequence = sequence + 1, changed_at = max(changed_at, excluded.changed_at);
END;
