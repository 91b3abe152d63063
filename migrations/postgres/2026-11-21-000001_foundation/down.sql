DROP TABLE instance_settings;
DROP TABLE events;
DROP TABLE outbound_mail;
DROP TABLE one_time_tokens;
DROP TABLE refresh_tokens;
DROP TABLE auth_sessions;
DROP TABLE users;
