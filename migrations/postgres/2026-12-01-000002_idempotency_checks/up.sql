-- The checks the first request passed, asked again of whoever replays it.
ALTER TABLE idempotency_records ADD COLUMN checks TEXT;
