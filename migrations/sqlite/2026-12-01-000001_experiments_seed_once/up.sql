-- An experiment seeds at most one next experiment: POST .../seed-next twice answers the first.
CREATE UNIQUE INDEX experiments_seeded_from_once ON experiments (seeded_from_id);
