-- A link in a session's mail that downloads the session as a calendar file (`add_to_calendar`).
ALTER TABLE action_links DROP CONSTRAINT action_links_action_check;
ALTER TABLE action_links ADD CONSTRAINT action_links_action_check CHECK (action IN ('confirm_duty', 'cant_make',
    'rsvp_yes', 'rsvp_no', 'check_in', 'accept_charter', 'take_cover', 'accept_swap', 'decline_swap', 'unsubscribe',
    'add_to_calendar'));
