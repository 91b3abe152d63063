-- Skill shares: a member offers a time-boxed slot on a session; members sign up for its places.

-- Whether offers wait for a facilitator's approval before they go on the agenda.
ALTER TABLE cohorts ADD COLUMN skill_shares_need_approval BOOLEAN NOT NULL DEFAULT 0;

CREATE TABLE skill_shares (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    presenter_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    minutes INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 480),
    -- Places for attendees; NULL is unlimited.
    capacity INTEGER CHECK (capacity IS NULL OR capacity >= 0),
    experiment_id TEXT REFERENCES experiments(id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'offered_back', 'withdrawn')),
    -- The arrival number the next sign-up takes: first come, first served, decided under this
    -- row's lock.
    next_arrival INTEGER NOT NULL DEFAULT 1,
    approved_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX skill_shares_session ON skill_shares(session_id, status, id);
CREATE INDEX skill_shares_cohort ON skill_shares(cohort_id, status, id);
CREATE INDEX skill_shares_presenter ON skill_shares(presenter_id, status, id);

CREATE TABLE skill_share_signups (
    skill_share_id TEXT NOT NULL REFERENCES skill_shares(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('attending', 'waitlisted')),
    -- First come, first served: the order of the waitlist, and who is promoted next.
    arrival INTEGER NOT NULL,
    -- A facilitator who added this person, past capacity if need be.
    added_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- Nobody holds two places in one slot.
    PRIMARY KEY (skill_share_id, user_id)
);
CREATE UNIQUE INDEX skill_share_signups_arrival ON skill_share_signups(skill_share_id, arrival);
CREATE INDEX skill_share_signups_status ON skill_share_signups(skill_share_id, status, arrival);
CREATE INDEX skill_share_signups_user ON skill_share_signups(user_id, skill_share_id);
