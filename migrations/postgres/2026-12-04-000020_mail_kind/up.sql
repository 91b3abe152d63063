-- The kind of each queued mail, sent as X-Roundtable-Kind (NULL for mail queued before).
ALTER TABLE outbound_mail ADD COLUMN kind TEXT;
