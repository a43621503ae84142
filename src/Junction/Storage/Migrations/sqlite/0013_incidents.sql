-- Alerts and incidents (src/Junction/Alerts). Times are Unix milliseconds.
-- One incident per problem: (rule, subject) is open at most once (status open, acknowledged or
-- snoozed); a new firing of an open one goes on its timeline. status: open | acknowledged | snoozed | resolved
CREATE TABLE incidents (
    id            TEXT PRIMARY KEY,
    rule          TEXT NOT NULL,
    subject       TEXT NOT NULL,
    status        TEXT NOT NULL,
    severity      TEXT NOT NULL,
    summary       TEXT NOT NULL,
    opened_at     INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    resolved_at   INTEGER,
    healthy_since INTEGER,
    snoozed_until INTEGER,
    revenue       TEXT NOT NULL,
    affected      TEXT NOT NULL,
    runbook       TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_incidents_open ON incidents (rule, subject) WHERE status <> 'resolved';
CREATE INDEX ix_incidents_opened ON incidents (opened_at);

-- What happened to an incident, in order: fired, notified, action, ack, snooze, resolve, closed …
CREATE TABLE incident_timeline (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL,
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT,
    detail      TEXT NOT NULL
);
CREATE INDEX ix_incident_timeline ON incident_timeline (incident_id, seq);

-- A condition seen but not yet held for its rule's `for:`; gone when it clears or its incident opens.
CREATE TABLE alert_pending (
    rule    TEXT NOT NULL,
    subject TEXT NOT NULL,
    since   INTEGER NOT NULL,
    PRIMARY KEY (rule, subject)
);

-- The alert signals read time windows of the log and the outbox.
CREATE INDEX ix_canonical_type_occurred ON canonical_events (type, occurred_at);
CREATE INDEX ix_raw_events_received ON raw_events (received_at);
CREATE INDEX ix_deliveries_state_completed ON deliveries (state, completed_at);
