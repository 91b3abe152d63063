DROP TRIGGER feed_experiment_changed;
DROP TRIGGER feed_duty_removed;
DROP TRIGGER feed_duty_changed;
DROP TRIGGER feed_duty_added;
DROP TRIGGER feed_session_changed;
DROP TABLE feed_revisions;
DROP TABLE calendar_feeds;
