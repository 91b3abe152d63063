ALTER TABLE idempotency_records DROP COLUMN checks;
