DROP TABLE notification_settings;
DROP TABLE notification_preferences;
