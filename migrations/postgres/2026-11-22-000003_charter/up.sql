-- The living charter: versions (drafts, then adopted in turn), comments and endorsements on
-- drafts, each member's acceptance of the adopted version, and reviews.

CREATE TABLE charter_versions (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    number INTEGER,
    state TEXT NOT NULL CHECK (state IN ('draft', 'adopted', 'superseded')),
    author_id TEXT,
    based_on_id TEXT,
    mission TEXT NOT NULL,
    goals TEXT NOT NULL,
    weekly_minutes INTEGER NOT NULL,
    learning_formats TEXT NOT NULL,
    other_learning_formats TEXT NOT NULL,
    norms TEXT NOT NULL,
    confidentiality TEXT NOT NULL,
    project_kinds TEXT NOT NULL,
    review_every INTEGER NOT NULL,
    review_unit TEXT NOT NULL CHECK (review_unit IN ('weeks', 'months')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    adopted_at TIMESTAMP,
    adopted_by TEXT
);
CREATE INDEX charter_versions_cohort_created ON charter_versions(cohort_id, created_at, id);
-- Numbers are given at adoption, once each: the database refuses a second version N.
CREATE UNIQUE INDEX charter_versions_number ON charter_versions(cohort_id, number) WHERE number IS NOT NULL;
-- At most one adopted (current) version per cohort.
CREATE UNIQUE INDEX charter_versions_current ON charter_versions(cohort_id) WHERE state = 'adopted';

CREATE TABLE charter_comments (
    id TEXT PRIMARY KEY NOT NULL,
    version_id TEXT NOT NULL REFERENCES charter_versions(id) ON DELETE CASCADE,
    author_id TEXT,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX charter_comments_version_created ON charter_comments(version_id, created_at, id);

CREATE TABLE charter_endorsements (
    version_id TEXT NOT NULL REFERENCES charter_versions(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (version_id, user_id)
);

CREATE TABLE charter_acceptances (
    version_id TEXT NOT NULL REFERENCES charter_versions(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    accepted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (version_id, user_id)
);

CREATE TABLE charter_reviews (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    version_id TEXT NOT NULL REFERENCES charter_versions(id) ON DELETE CASCADE,
    reviewed_by TEXT,
    note TEXT NOT NULL,
    reviewed_at TIMESTAMP NOT NULL
);
CREATE INDEX charter_reviews_cohort_reviewed ON charter_reviews(cohort_id, reviewed_at, id);

-- One "review due" event per cohort and due date, however many replicas sweep.
CREATE TABLE charter_review_notices (
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    due_on TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (cohort_id, due_on)
);
