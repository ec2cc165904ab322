-- E-mail notices: the student's university address (from the registry
-- import), and an outbox of e-mails written in the change's transaction
-- beside the push deliveries.
ALTER TABLE students ADD COLUMN email TEXT;

CREATE TABLE email_deliveries (
    id TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL REFERENCES notices(id),
    student_id TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT
);
CREATE INDEX email_deliveries_due ON email_deliveries (next_attempt_at);

CREATE TABLE dead_email_deliveries (
    id TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL,
    student_id TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    dead_at BIGINT NOT NULL
);
