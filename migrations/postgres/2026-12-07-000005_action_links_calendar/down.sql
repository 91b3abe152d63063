DELETE FROM action_links WHERE action = 'add_to_calendar';
ALTER TABLE action_links DROP CONSTRAINT action_links_action_check;
ALTER TABLE action_links ADD CONSTRAINT action_links_action_check CHECK (action IN ('confirm_duty', 'cant_make',
    'rsvp_yes', 'rsvp_no', 'check_in', 'accept_charter', 'take_cover', 'accept_swap', 'decline_swap', 'unsubscribe'));
