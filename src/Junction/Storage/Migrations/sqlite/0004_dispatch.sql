-- The delivery outbox. Rows are written by the projector in the same transaction as the person
-- state (kind=state: the desired contact; kind=event: one canonical event) and claimed with a lease
-- by the dispatcher. Times are Unix milliseconds.
-- state: pending | in_flight | succeeded | held (destination paused) | dead (the DLQ) | superseded
CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    destination      TEXT NOT NULL,
    person_id        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    event_id         TEXT,
    payload          TEXT NOT NULL,
    trace_id         TEXT,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_until      INTEGER,
    first_attempt_at INTEGER,
    completed_at     INTEGER,
    last_error       TEXT,
    last_status      INTEGER,
    dead_reason      TEXT,
    request          TEXT,
    replayed_at      INTEGER
);
-- An event is delivered to a destination once, however often its draft is written.
CREATE UNIQUE INDEX ux_deliveries_event ON deliveries (destination, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX ix_deliveries_due ON deliveries (destination, state, next_attempt_at, id);
CREATE INDEX ix_deliveries_person ON deliveries (destination, person_id, id);

-- Every attempt, kept for the DLQ (status, error, timing).
CREATE TABLE delivery_attempts (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    status      INTEGER,
    error       TEXT
);
CREATE INDEX ix_delivery_attempts ON delivery_attempts (delivery_id, seq);

-- What each state destination was last brought to for a person (the connector diffs against it).
CREATE TABLE destination_sync (
    destination TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    desired     TEXT NOT NULL,
    synced_at   INTEGER NOT NULL,
    PRIMARY KEY (destination, person_id)
);

CREATE TABLE destination_control (
    destination TEXT PRIMARY KEY,
    paused      INTEGER NOT NULL,
    paused_at   INTEGER,
    reason      TEXT
);
