-- A reminder's mail is no use once what it reminds of has begun: it is not sent after this.
ALTER TABLE outbound_mail ADD COLUMN expires_at TIMESTAMP;
