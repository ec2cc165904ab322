-- Students of a USOS university sign in through USOS: they are keyed by
-- (university, USOS user id) and hold no password here.
ALTER TABLE students ADD COLUMN university_id TEXT;
ALTER TABLE students ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX students_by_external_id ON students (university_id, external_id);

-- A USOS sign-in on its way: the request token (and its secret, sealed)
-- between sending the student to USOS and USOS sending them back.
CREATE TABLE usos_logins (
    request_token TEXT PRIMARY KEY,
    university_id TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The student's USOS access token and its secret, sealed; the scopes asked for.
CREATE TABLE usos_tokens (
    student_id TEXT PRIMARY KEY REFERENCES students(id),
    sealed TEXT NOT NULL,
    scopes TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
