DROP INDEX events_unnumbered;
DROP INDEX events_by_seq;
DROP SEQUENCE events_seq;
ALTER TABLE events DROP COLUMN audience;
ALTER TABLE events DROP COLUMN seq;
