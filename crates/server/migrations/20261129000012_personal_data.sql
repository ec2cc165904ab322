-- Keeping only what is needed of a student's personal data.
-- The PESEL is sealed (the issuer needs it whole, once per card); its
-- masked form is what anyone is shown. `migrate` seals the PESELs stored
-- before this migration (SQL cannot: the key is not in the database).
ALTER TABLE students RENAME COLUMN pesel TO pesel_sealed;
ALTER TABLE students ADD COLUMN pesel_masked TEXT;
-- When the student's personal data was erased (`erase`): the row stays,
-- emptied, so their orders' history stays whole and anonymous.
ALTER TABLE students ADD COLUMN erased_at BIGINT;

-- What operators did, and who: every admin command that changes something.
CREATE TABLE admin_actions (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    operator TEXT NOT NULL,
    action TEXT NOT NULL,
    -- The student's id (never their name or PESEL), the queue, …
    subject TEXT,
    detail TEXT
);
CREATE INDEX admin_actions_by_time ON admin_actions (at);

-- Activation data is kept only while it can still be used.
UPDATE orders SET activation_secret = NULL
    WHERE status NOT IN ('in_progress', 'ready') AND activation_secret IS NOT NULL;

-- For pruning: notices by age; sessions by their end.
CREATE INDEX notices_by_time ON notices (created_at);
CREATE INDEX idempotency_keys_by_time ON idempotency_keys (created_at);
