-- Cohorts, their members, invitations (by mail and by link), and personal access tokens.

CREATE TABLE cohorts (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    locale TEXT NOT NULL,
    created_by TEXT,
    archived_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE memberships (
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('member', 'facilitator', 'organizer')),
    state TEXT NOT NULL CHECK (state IN ('active', 'paused', 'left')),
    joined_at TIMESTAMP NOT NULL,
    state_changed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (cohort_id, user_id)
);
CREATE INDEX memberships_cohort_joined ON memberships(cohort_id, joined_at, user_id);
CREATE INDEX memberships_user_joined ON memberships(user_id, joined_at, cohort_id);

CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    email_lower TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('member', 'facilitator', 'organizer')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    accepted_by TEXT,
    revoked_at TIMESTAMP
);
CREATE INDEX invitations_cohort_created ON invitations(cohort_id, created_at, id);
-- At most one open invitation per address and cohort; inviting again renews it.
CREATE UNIQUE INDEX invitations_one_open ON invitations(cohort_id, email_lower)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

CREATE TABLE invite_links (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL UNIQUE,
    code_hint TEXT NOT NULL,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    max_uses INTEGER,
    uses INTEGER NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX invite_links_cohort_created ON invite_links(cohort_id, created_at, id);

CREATE TABLE personal_access_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    token_hint TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX personal_access_tokens_user_created ON personal_access_tokens(user_id, created_at, id);
