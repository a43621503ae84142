-- Smoke runs (junction smoke): a synthetic lead → purchase → refund driven end to end and checked by
-- read-back. Times are Unix milliseconds. status: running | passed | failed; steps is JSON
-- [{"step","ok","detail","at"}] in the order they ran.
CREATE TABLE smoke_runs (
    id           TEXT PRIMARY KEY,
    trigger_name TEXT NOT NULL,
    mode         TEXT NOT NULL,
    source       TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    status       TEXT NOT NULL,
    failed_step  TEXT,
    person_id    TEXT,
    steps        TEXT NOT NULL
);
CREATE INDEX ix_smoke_runs_started ON smoke_runs (started_at);
