-- Webhooks: endpoints organizers register per cohort, and one delivery row per (endpoint,
-- event), sent in order per endpoint from the event stream.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    cohort_id TEXT NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    -- Space-separated event kinds, or '*' for every kind a webhook may receive.
    events TEXT NOT NULL,
    description TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    -- The end of the event stream when it was registered: only later events are sent to it.
    after_seq INTEGER NOT NULL,
    -- Why it was turned off by the server (410 Gone, failing for days); NULL when on or turned
    -- off by an organizer.
    disabled_reason TEXT,
    -- whsec_<base64>: kept so deliveries can be signed; never listed.
    secret TEXT NOT NULL,
    -- After a rotation the old secret signs beside the new one until previous_secret_until.
    previous_secret TEXT,
    previous_secret_until TIMESTAMP,
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_of_cohort ON webhooks (cohort_id, created_at, id);

-- status: pending -> sending -> delivered | pending again (retry) | failed (given up).
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    -- The event's id (also the webhook-id header); a ping's own id.
    event_id TEXT NOT NULL,
    -- The event's place in the stream: an endpoint's deliveries go in this order (a ping: 0).
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    -- The JSON body, exactly as signed and sent.
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    claim_token TEXT,
    locked_until TIMESTAMP,
    response_status INTEGER,
    latency_ms INTEGER,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_open ON webhook_deliveries (webhook_id, seq, created_at) WHERE status IN ('pending', 'sending');
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, created_at, id);

-- The webhook worker follows the stream from its end as it is now.
INSERT INTO stream_cursors (name, seq) SELECT 'webhooks', COALESCE(MAX(seq), 0) FROM events;
