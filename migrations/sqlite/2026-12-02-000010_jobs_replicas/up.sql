-- Replicas share the background work.
-- A periodic job runs under a named lease (claimed by a conditional update): while one replica
-- holds it, the others skip that job.
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    until TIMESTAMP NOT NULL
);

-- Each claim of a mail gets its own token; only the worker holding it may finish the mail.
ALTER TABLE outbound_mail ADD COLUMN claim_token TEXT;

-- One row per coaching cycle: its key makes forming cycle N+1 happen once, however many
-- replicas (or facilitators) try at the same moment.
CREATE TABLE coaching_cycles (
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    cycle INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (cohort_id, cycle)
);
INSERT INTO coaching_cycles (cohort_id, cycle, created_at)
SELECT cohort_id, cycle, MIN(created_at) FROM coaching_pairs GROUP BY cohort_id, cycle;
