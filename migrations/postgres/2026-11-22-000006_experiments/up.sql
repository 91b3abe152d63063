-- Experiments between sessions, their check-ins, and what peers add; and the records that make
-- POST requests with an Idempotency-Key safe to retry.

CREATE TABLE experiments (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    success_signal TEXT NOT NULL,
    due_session_id TEXT REFERENCES sessions(id) ON DELETE SET NULL,
    due_on TEXT,
    metric_name TEXT,
    metric_unit TEXT,
    metric_target DOUBLE PRECISION,
    visibility TEXT NOT NULL CHECK (visibility IN ('private', 'buddy', 'cohort')),
    buddy_id TEXT,
    state TEXT NOT NULL CHECK (state IN ('committed', 'in_progress', 'done', 'dropped')),
    drop_reason TEXT,
    outcome_result TEXT,
    outcome_learned TEXT,
    outcome_next_step TEXT,
    seeded_from_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX experiments_cohort_created ON experiments(cohort_id, created_at, id);
CREATE INDEX experiments_owner_created ON experiments(owner_id, created_at, id);

CREATE TABLE experiment_check_ins (
    id TEXT PRIMARY KEY NOT NULL,
    experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    done TEXT NOT NULL,
    next TEXT NOT NULL,
    blockers TEXT NOT NULL,
    value DOUBLE PRECISION,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX experiment_check_ins_experiment ON experiment_check_ins(experiment_id, created_at, id);

CREATE TABLE experiment_comments (
    id TEXT PRIMARY KEY NOT NULL,
    experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    author_id TEXT,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX experiment_comments_experiment ON experiment_comments(experiment_id, created_at, id);

CREATE TABLE experiment_help_offers (
    id TEXT PRIMARY KEY NOT NULL,
    experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    helper_id TEXT NOT NULL,
    message TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('offered', 'accepted', 'dismissed')),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX experiment_help_offers_experiment ON experiment_help_offers(experiment_id, created_at, id);

CREATE TABLE experiment_celebrations (
    experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (experiment_id, user_id)
);

-- A POST with an Idempotency-Key is answered once; a retry gets the stored answer.
CREATE TABLE idempotency_records (
    user_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER,
    content_type TEXT,
    body TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
CREATE INDEX idempotency_records_created ON idempotency_records(created_at);
