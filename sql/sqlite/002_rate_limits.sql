-- 002_rate_limits: fixed-window counters shared by every Apache process
-- (and every host on PostgreSQL): login attempts, room creation, guest
-- messages. bucket is e.g. "login:phone:+998901234567".
CREATE TABLE rate_limits (
    bucket        TEXT    PRIMARY KEY,
    window_start  INTEGER NOT NULL,
    hits          INTEGER NOT NULL
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
