ALTER TABLE outbound_mail DROP COLUMN kind;
