-- What the card shows that the import may give directly: the photo (a file
-- name in the server's photos_dir, as the university's photo system names
-- it) and the birth date (for a student without a PESEL; with one, the
-- PESEL's date is the card's and the import checks they agree).
ALTER TABLE students ADD COLUMN photo_ref TEXT;
ALTER TABLE students ADD COLUMN birth_date TEXT;
