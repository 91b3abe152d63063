ALTER TABLE idempotency_records DROP COLUMN headers;
ALTER TABLE idempotency_records DROP COLUMN locked_until;
ALTER TABLE idempotency_records DROP COLUMN claim_token;
