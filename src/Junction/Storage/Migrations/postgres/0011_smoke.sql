-- Smoke runs (junction smoke): a synthetic lead → purchase → refund driven end to end and checked by
-- read-back. Times are Unix milliseconds. status: running | passed | failed; steps is JSON
-- [{"step","ok","detail","at"}] in the order they ran.
CREATE TABLE smoke_runs (
    id           text PRIMARY KEY,
    trigger_name text NOT NULL,
    mode         text NOT NULL,
    source       text NOT NULL,
    started_at   bigint NOT NULL,
    finished_at  bigint,
    status       text NOT NULL,
    failed_step  text,
    person_id    text,
    steps        text NOT NULL
);
CREATE INDEX ix_smoke_runs_started ON smoke_runs (started_at);
