-- A claim on a key is held by one request (its token) until `locked_until`; after that a retry may
-- take the key over. The stored answer keeps the headers that matter (Location, ETag) as JSON.
ALTER TABLE idempotency_records ADD COLUMN claim_token TEXT;
ALTER TABLE idempotency_records ADD COLUMN locked_until TIMESTAMP;
ALTER TABLE idempotency_records ADD COLUMN headers TEXT;
