-- The delivery outbox. Rows are written by the projector in the same transaction as the person
-- state (kind=state: the desired contact; kind=event: one canonical event) and claimed with a lease
-- by the dispatcher. Times are Unix milliseconds.
-- state: pending | in_flight | succeeded | held (destination paused) | dead (the DLQ) | superseded
CREATE TABLE deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    destination      text NOT NULL,
    person_id        text NOT NULL,
    kind             text NOT NULL,
    event_id         text,
    payload          text NOT NULL,
    trace_id         text,
    state            text NOT NULL,
    attempts         bigint NOT NULL DEFAULT 0,
    created_at       bigint NOT NULL,
    next_attempt_at  bigint NOT NULL,
    lease_owner      text,
    lease_until      bigint,
    first_attempt_at bigint,
    completed_at     bigint,
    last_error       text,
    last_status      bigint,
    dead_reason      text,
    request          text,
    replayed_at      bigint
);
-- An event is delivered to a destination once, however often its draft is written.
CREATE UNIQUE INDEX ux_deliveries_event ON deliveries (destination, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX ix_deliveries_due ON deliveries (destination, state, next_attempt_at, id);
CREATE INDEX ix_deliveries_person ON deliveries (destination, person_id, id);

-- Every attempt, kept for the DLQ (status, error, timing).
CREATE TABLE delivery_attempts (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id bigint NOT NULL,
    attempt     bigint NOT NULL,
    started_at  bigint NOT NULL,
    duration_ms bigint NOT NULL,
    outcome     text NOT NULL,
    status      bigint,
    error       text
);
CREATE INDEX ix_delivery_attempts ON delivery_attempts (delivery_id, seq);

-- What each state destination was last brought to for a person (the connector diffs against it).
CREATE TABLE destination_sync (
    destination text NOT NULL,
    person_id   text NOT NULL,
    desired     text NOT NULL,
    synced_at   bigint NOT NULL,
    PRIMARY KEY (destination, person_id)
);

CREATE TABLE destination_control (
    destination text PRIMARY KEY,
    paused      bigint NOT NULL,
    paused_at   bigint,
    reason      text
);
