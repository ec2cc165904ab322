-- Outbox jobs that call for action go first. Every outbox table gets a
-- priority (0 routine, 1 first: a "ready" notice, an invalidation, a look
-- the student waits for); due jobs are claimed by priority, then by when
-- they fell due, so the claim's index is on both.
ALTER TABLE deliveries ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE email_deliveries ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE issuer_commands ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usos_polls ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
DROP INDEX deliveries_due;
DROP INDEX email_deliveries_due;
DROP INDEX issuer_commands_due;
DROP INDEX usos_polls_due;
CREATE INDEX deliveries_due ON deliveries (priority DESC, next_attempt_at);
CREATE INDEX email_deliveries_due ON email_deliveries (priority DESC, next_attempt_at);
CREATE INDEX issuer_commands_due ON issuer_commands (priority DESC, next_attempt_at);
CREATE INDEX usos_polls_due ON usos_polls (priority DESC, next_attempt_at);

-- A newer notice about an order supersedes its undelivered predecessors
-- (the push services' collapse key is the order): found by order.
CREATE INDEX notices_by_order ON notices (order_id);
CREATE INDEX deliveries_by_notice ON deliveries (notice_id);
