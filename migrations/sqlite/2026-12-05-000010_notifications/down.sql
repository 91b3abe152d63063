ALTER TABLE outbound_mail DROP COLUMN unsubscribe_url;
ALTER TABLE outbound_mail DROP COLUMN list_id;
DROP TABLE stream_cursors;
DROP TABLE notifications;
