-- While a student's app is open (its live stream connected), their USOS
-- order is looked at more often: until when the app was last seen open.
ALTER TABLE usos_state ADD COLUMN app_open_until BIGINT NOT NULL DEFAULT 0;
