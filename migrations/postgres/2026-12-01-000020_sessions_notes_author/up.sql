-- Who last wrote a session's notes (shown as notes_author); NULL when nobody has, or they deleted their account.
ALTER TABLE sessions ADD COLUMN notes_author_id TEXT REFERENCES users(id) ON DELETE SET NULL;
