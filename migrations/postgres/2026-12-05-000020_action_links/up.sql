-- Links in mail that act for their recipient without a sign-in (api/notifications/links.rs):
-- one row per link, bound to its recipient, action and object; the secret is kept only as its
-- SHA-256 hash, like every other secret.
CREATE TABLE action_links (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('confirm_duty', 'cant_make', 'rsvp_yes', 'rsvp_no', 'check_in',
        'accept_charter', 'take_cover', 'accept_swap', 'decline_swap', 'unsubscribe')),
    -- An assignment, session, experiment, charter version or swap request id, or for
    -- unsubscribe a notification kind's name.
    object_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
-- Revoking every link of a user (DELETE /me/action-links) finds them by user.
CREATE INDEX action_links_user ON action_links(user_id) WHERE revoked_at IS NULL;
