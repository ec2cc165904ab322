-- A USOS university's order is mirrored here: USOS's id and its raw status.
ALTER TABLE orders ADD COLUMN external_id TEXT;
ALTER TABLE orders ADD COLUMN external_status TEXT;

-- What USOS last said about the student: why they may not order (its own
-- words, a LangDict as JSON), and when it was read.
CREATE TABLE usos_state (
    student_id TEXT PRIMARY KEY REFERENCES students(id),
    why_cannot_order TEXT,
    checked_at BIGINT NOT NULL
);

-- The status watcher: one job per student with an order USOS is working on,
-- looked at again after an interval that grows (an outbox of reads).
CREATE TABLE usos_polls (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id),
    started_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT
);
CREATE UNIQUE INDEX usos_polls_by_student ON usos_polls (student_id);
CREATE INDEX usos_polls_due ON usos_polls (next_attempt_at);

CREATE TABLE dead_usos_polls (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    dead_at BIGINT NOT NULL
);
