-- Coaching pairs can rotate by themselves: a new cycle every N sessions (NULL: a facilitator starts them).
ALTER TABLE cohorts ADD COLUMN pair_every_sessions INTEGER;
