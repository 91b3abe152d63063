ALTER TABLE cohorts DROP COLUMN pair_every_sessions;
