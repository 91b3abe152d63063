-- The sign-in and mail throttle's counters, shared by every replica: one row per budget key and
-- fixed window. A request adds one to its row (insert, or on conflict increment, returning the
-- count: the database decides), and is refused once the count passes the budget. Keys are hashes
-- (of an address, an account or both), never the plain values. Rows past expires_at are deleted
-- by the periodic sweep.
CREATE TABLE auth_throttle (
    key TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits INTEGER NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX auth_throttle_expiry ON auth_throttle (expires_at);
