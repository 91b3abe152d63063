ALTER TABLE memberships DROP COLUMN removed_by;
