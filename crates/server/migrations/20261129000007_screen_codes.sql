-- "Show the QR on a computer": a one-time code the app shows, typed on the
-- university server's /show page, which then shows the codes (one view).
CREATE TABLE screen_codes (
    code_hash TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
