-- How far ahead each cohort's rota was planned: re-plans after an absence, an RSVP "no", a member
-- or a session change cover exactly that window.
CREATE TABLE rota_horizons (
    cohort_id TEXT PRIMARY KEY NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    planned_until TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
