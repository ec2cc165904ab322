-- The issuer outbox: each submit or invalidation is written in the same
-- transaction as the status change that causes it, and delivered to the
-- issuer bridge with retries. The id is the Idempotency-Key the bridge
-- de-duplicates on.
CREATE TABLE issuer_commands (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    -- 'submit' or 'invalidate'.
    command TEXT NOT NULL,
    reason TEXT,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT
);
CREATE INDEX issuer_commands_due ON issuer_commands (next_attempt_at);

-- Commands the bridge refused for good, or that ran out of retries.
CREATE TABLE dead_issuer_commands (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    command TEXT NOT NULL,
    reason TEXT,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    dead_at BIGINT NOT NULL
);

-- The issuer emulator no longer lives in the server: its records go.
DROP TABLE emulator_issued;
