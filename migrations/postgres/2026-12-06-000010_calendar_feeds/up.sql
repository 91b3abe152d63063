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

CREATE FUNCTION feed_bump(subject TEXT, changed TIMESTAMP) RETURNS void AS $$
BEGIN
    INSERT INTO feed_revisions (subject_id, sequence, changed_at) VALUES (subject, 1, changed)
    ON CONFLICT (subject_id) DO UPDATE
        SET sequence = feed_revisions.sequence + 1,
            changed_at = GREATEST(feed_revisions.changed_at, EXCLUDED.changed_at);
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION feed_session_changed() RETURNS trigger AS $$
BEGIN
    IF OLD.starts_at IS DISTINCT FROM NEW.starts_at OR OLD.ends_at IS DISTINCT FROM NEW.ends_at
        OR OLD.title IS DISTINCT FROM NEW.title OR OLD.location IS DISTINCT FROM NEW.location
        OR OLD.status IS DISTINCT FROM NEW.status THEN
        PERFORM feed_bump(NEW.id, NEW.updated_at);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER feed_session_changed AFTER UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION feed_session_changed();

CREATE FUNCTION feed_duty_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM feed_bump(NEW.session_id, NEW.updated_at);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM feed_bump(OLD.session_id, OLD.updated_at);
    ELSIF OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.role_id IS DISTINCT FROM NEW.role_id
        OR OLD.session_id IS DISTINCT FROM NEW.session_id THEN
        PERFORM feed_bump(NEW.session_id, NEW.updated_at);
        IF OLD.session_id IS DISTINCT FROM NEW.session_id THEN
            PERFORM feed_bump(OLD.session_id, NEW.updated_at);
        END IF;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER feed_duty_changed AFTER INSERT OR UPDATE OR DELETE ON assignments
    FOR EACH ROW EXECUTE FUNCTION feed_duty_changed();

CREATE FUNCTION feed_experiment_changed() RETURNS trigger AS $$
BEGIN
    IF OLD.title IS DISTINCT FROM NEW.title OR OLD.due_on IS DISTINCT FROM NEW.due_on
        OR OLD.due_session_id IS DISTINCT FROM NEW.due_session_id OR OLD.state IS DISTINCT FROM NEW.state
        OR OLD.cohort_id IS DISTINCT FROM NEW.cohort_id THEN
        PERFORM feed_bump(NEW.id, NEW.updated_at);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER feed_experiment_changed AFTER UPDATE ON experiments
    FOR EACH ROW EXECUTE FUNCTION feed_experiment_changed();
