DROP TRIGGER feed_experiment_changed ON experiments;
DROP TRIGGER feed_duty_changed ON assignments;
DROP TRIGGER feed_session_changed ON sessions;
DROP FUNCTION feed_experiment_changed();
DROP FUNCTION feed_duty_changed();
DROP FUNCTION feed_session_changed();
DROP FUNCTION feed_bump(TEXT, TIMESTAMP);
DROP TABLE feed_revisions;
DROP TABLE calendar_feeds;
