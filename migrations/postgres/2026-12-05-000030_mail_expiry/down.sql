ALTER TABLE outbound_mail DROP COLUMN expires_at;
