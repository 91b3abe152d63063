-- The rota: duty roles, absences, assignments, swap and cover requests, coaching pairs.

CREATE TABLE duty_roles (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    min_attended INTEGER NOT NULL,
    facilitation BOOLEAN NOT NULL,
    retired_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX duty_roles_cohort_position ON duty_roles(cohort_id, position);

CREATE TABLE absences (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id TEXT REFERENCES sessions(id) ON DELETE CASCADE,
    from_on TEXT,
    to_on TEXT,
    note TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX absences_cohort_created ON absences(cohort_id, created_at, id);

CREATE TABLE assignments (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES duty_roles(id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    locked BOOLEAN NOT NULL,
    confirmed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX assignments_session_role ON assignments(session_id, role_id);
CREATE INDEX assignments_cohort_session ON assignments(cohort_id, session_id);
CREATE INDEX assignments_user ON assignments(user_id, session_id);

CREATE TABLE swap_requests (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    assignment_id TEXT NOT NULL REFERENCES assignments(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('swap', 'cover')),
    requester_id TEXT NOT NULL,
    peer_id TEXT,
    peer_assignment_id TEXT REFERENCES assignments(id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'declined', 'cancelled')),
    expires_at TIMESTAMP NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX swap_requests_cohort_created ON swap_requests(cohort_id, created_at, id);

CREATE TABLE coaching_pairs (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    cycle INTEGER NOT NULL,
    coach_id TEXT NOT NULL,
    coachee_id TEXT NOT NULL,
    third_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX coaching_pairs_cohort_cycle ON coaching_pairs(cohort_id, cycle);

-- Cohorts created before the rota existed get the default roles.
INSERT INTO duty_roles (id, cohort_id, name, position, min_attended, facilitation, created_at)
SELECT lower(hex(randomblob(16))), id, 'Facilitator', 0, 0, 1, CURRENT_TIMESTAMP FROM cohorts;
INSERT INTO duty_roles (id, cohort_id, name, position, min_attended, facilitation, created_at)
SELECT lower(hex(randomblob(16))), id, 'Note-taker', 1, 0, 0, CURRENT_TIMESTAMP FROM cohorts;
INSERT INTO duty_roles (id, cohort_id, name, position, min_attended, facilitation, created_at)
SELECT lower(hex(randomblob(16))), id, 'Timekeeper', 2, 0, 0, CURRENT_TIMESTAMP FROM cohorts;
