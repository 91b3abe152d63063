DROP TABLE session_action_items;
DROP TABLE session_attendance;
DROP TABLE session_rsvps;
DROP TABLE sessions;
DROP TABLE session_series;
ALTER TABLE cohorts DROP COLUMN agenda_template;
