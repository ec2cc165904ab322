-- On SQLite, changes committed by another process (the admin tools) reach
-- the server through this table, which the server reads every 250 ms (on
-- PostgreSQL, LISTEN/NOTIFY carries them and the table stays empty).
CREATE TABLE peer_changes (
    seq INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    payload TEXT NOT NULL,
    at BIGINT NOT NULL
);
