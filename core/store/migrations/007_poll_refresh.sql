-- Turns at editing a poll's message, shared by every process on the database (core/store/refresh.py):
-- at most one edit per poll per gap overall, and the last change is always rendered. No member ids.
CREATE TABLE poll_refresh (
    poll_id     INTEGER PRIMARY KEY,
    version     INTEGER NOT NULL DEFAULT 0,  -- bumped by each process that saw the poll change
    claimed     INTEGER NOT NULL DEFAULT 0,  -- the version the running (or last) edit was granted for
    done        INTEGER NOT NULL DEFAULT 0,  -- the version the last finished edit covered
    holder      TEXT,                        -- the process editing now; NULL when no edit runs
    lease_until TEXT,                        -- an edit still running then is presumed dead
    last_at     TEXT                         -- when the last edit ended (started, while it runs)
);
