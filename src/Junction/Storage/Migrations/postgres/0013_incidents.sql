-- Alerts and incidents (src/Junction/Alerts). Times are Unix milliseconds.
-- One incident per problem: (rule, subject) is open at most once (status open, acknowledged or
-- snoozed); a new firing of an open one goes on its timeline. status: open | acknowledged | snoozed | resolved
CREATE TABLE incidents (
    id            text PRIMARY KEY,
    rule          text NOT NULL,
    subject       text NOT NULL,
    status        text NOT NULL,
    severity      text NOT NULL,
    summary       text NOT NULL,
    opened_at     bigint NOT NULL,
    updated_at    bigint NOT NULL,
    resolved_at   bigint,
    healthy_since bigint,
    snoozed_until bigint,
    revenue       text NOT NULL,
    affected      text NOT NULL,
    runbook       text NOT NULL
);
CREATE UNIQUE INDEX ux_incidents_open ON incidents (rule, subject) WHERE status <> 'resolved';
CREATE INDEX ix_incidents_opened ON incidents (opened_at);

-- What happened to an incident, in order: fired, notified, action, ack, snooze, resolve, closed …
CREATE TABLE incident_timeline (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id text NOT NULL,
    at          bigint NOT NULL,
    kind        text NOT NULL,
    actor       text,
    detail      text NOT NULL
);
CREATE INDEX ix_incident_timeline ON incident_timeline (incident_id, seq);

-- A condition seen but not yet held for its rule's `for:`; gone when it clears or its incident opens.
CREATE TABLE alert_pending (
    rule    text NOT NULL,
    subject text NOT NULL,
    since   bigint NOT NULL,
    PRIMARY KEY (rule, subject)
);

-- The alert signals read time windows of the log and the outbox.
CREATE INDEX ix_canonical_type_occurred ON canonical_events (type, occurred_at);
CREATE INDEX ix_raw_events_received ON raw_events (received_at);
CREATE INDEX ix_deliveries_state_completed ON deliveries (state, completed_at);
