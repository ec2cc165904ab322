-- Portable SQL: TEXT ids, BIGINT Unix-millisecond times, BIGINT flags.
CREATE TABLE students (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    pesel TEXT,
    album_number TEXT,
    active BIGINT NOT NULL,
    has_photo BIGINT NOT NULL,
    els_number TEXT,
    els_valid_until BIGINT,
    els_issued_at BIGINT,
    data_changed_at BIGINT,
    study_level TEXT NOT NULL,
    -- Graduation or removal from the student list.
    removed_at BIGINT,
    removal_reason TEXT
);

-- A signed-in device: one refresh token at a time (rotated on every use).
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id),
    refresh_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    refresh_expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Short-lived bearer tokens of a session.
CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    expires_at BIGINT NOT NULL
);
CREATE INDEX access_tokens_by_session ON access_tokens (session_id);

-- Refresh tokens already used: presenting one again means it was stolen.
CREATE TABLE spent_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id)
);

-- One-time pairing codes shown on the web page, exchanged by the app.
CREATE TABLE pairing_codes (
    code_hash TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id),
    -- 1, 2, 3 … per student: the newest order is the current one.
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    reveals BIGINT NOT NULL DEFAULT 0,
    -- Activation data, sealed with the key from settings.
    activation_secret TEXT,
    activation_expires_at BIGINT,
    card_valid_until BIGINT,
    reason TEXT
);
CREATE UNIQUE INDEX orders_by_student ON orders (student_id, seq);
-- One open order (pending, in progress, ready, received) per student.
CREATE UNIQUE INDEX orders_one_open ON orders (student_id)
    WHERE status IN ('pending', 'in_progress', 'ready', 'received');

CREATE TABLE order_events (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    -- 1, 2, 3 … per order: the order of steps, even within one millisecond.
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    at BIGINT NOT NULL
);
CREATE UNIQUE INDEX order_events_by_order ON order_events (order_id, seq);

CREATE TABLE idempotency_keys (
    student_id TEXT NOT NULL REFERENCES students(id),
    idem_key TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (student_id, idem_key)
);

-- The issuer emulator's own records (what the ministry would keep).
CREATE TABLE emulator_issued (
    order_id TEXT PRIMARY KEY,
    qr_payload TEXT NOT NULL UNIQUE,
    manual_code TEXT NOT NULL UNIQUE,
    activation_code_hash TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    superseded BIGINT NOT NULL DEFAULT 0,
    activated_at BIGINT
);

-- Devices that want push notices; removed when their session signs out.
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id),
    session_id TEXT NOT NULL REFERENCES sessions(id),
    platform TEXT NOT NULL,
    token TEXT NOT NULL,
    locale TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX devices_by_token ON devices (platform, token);
CREATE INDEX devices_by_student ON devices (student_id);

-- The transactional outbox: each status change writes its notice, and one
-- delivery per registered device, in the change's own transaction.
CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students(id),
    order_id TEXT NOT NULL REFERENCES orders(id),
    -- 'status' for a status change, or a reminder's kind.
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL REFERENCES notices(id),
    device_id TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at);

-- Deliveries that could not be made: poison messages and spent retries.
CREATE TABLE dead_deliveries (
    id TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    dead_at BIGINT NOT NULL
);

-- Reminders already sent: each once per order.
CREATE TABLE reminders_sent (
    order_id TEXT NOT NULL REFERENCES orders(id),
    kind TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (order_id, kind)
);
