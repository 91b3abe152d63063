CREATE TABLE action_links_next (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('confirm_duty', 'cant_make', 'rsvp_yes', 'rsvp_no', 'check_in',
        'accept_charter', 'take_cover', 'accept_swap', 'decline_swap', 'unsubscribe')),
    object_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
INSERT INTO action_links_next (id, token_hash, user_id, action, object_id, created_at, expires_at, used_at, revoked_at)
    SELECT id, token_hash, user_id, action, object_id, created_at, expires_at, used_at, revoked_at FROM action_links WHERE action <> 'add_to_calendar';
DROP TABLE action_links;
ALTER TABLE action_links_next RENAME TO action_links;
CREATE INDEX action_links_user ON action_links(user_id) WHERE revoked_at IS NULL;
