-- Events as a strictly ordered stream: `seq` is given at commit (api/events/mod.rs,
-- before_commit, under an advisory lock); NULL only inside the transaction that appends the row.
ALTER TABLE events ADD COLUMN seq BIGINT;
ALTER TABLE events ADD COLUMN audience TEXT NOT NULL DEFAULT 'private'
    CHECK (audience IN ('cohort', 'buddy', 'private', 'organizers', 'account'));
CREATE SEQUENCE events_seq;

-- Who may see each event, by kind (api/events/kind.rs); experiments as their owner chose.
UPDATE events SET audience = CASE
    WHEN kind LIKE 'user.%' OR kind LIKE 'token.%' THEN 'account'
    WHEN kind IN ('invitation.sent', 'invitation.revoked', 'invitation.accepted', 'invite_link.created',
                  'invite_link.revoked', 'invite_link.used', 'charter.accepted', 'session.rsvp_changed')
        THEN 'organizers'
    WHEN kind LIKE 'experiment.%'
        THEN COALESCE((SELECT x.visibility FROM experiments x WHERE x.id = events.subject_id), 'private')
    ELSE 'cohort'
END;

-- Existing events are numbered in the order they were written.
UPDATE events SET seq = numbered.n
FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM events) AS numbered
WHERE events.id = numbered.id;

CREATE UNIQUE INDEX events_by_seq ON events(seq);
-- The rows of transactions that have not committed yet: found by the numbering at commit.
CREATE INDEX events_unnumbered ON events(created_at, id) WHERE seq IS NULL;
SELECT setval('events_seq', COALESCE((SELECT MAX(seq) FROM events), 0) + 1, false);
-- Every writer states the audience.
ALTER TABLE events ALTER COLUMN audience DROP DEFAULT;
