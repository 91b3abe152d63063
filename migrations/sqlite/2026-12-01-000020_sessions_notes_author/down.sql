ALTER TABLE sessions DROP COLUMN notes_author_id;
