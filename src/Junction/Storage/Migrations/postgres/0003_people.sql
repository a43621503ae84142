-- People: what the project stage keeps (identity graph, person state, timers, overrides).
-- Every row here is derived from the log (plus operator overrides and detaches), so
-- `junction rebuild` can drop and recompute it. Times are UTC ISO-8601 text (sortable).

-- One row per person id ever created. merged_into is set when the person was merged into
-- another (the survivor, always the oldest); such rows keep resolving to it.
CREATE TABLE people (
    person_id      text PRIMARY KEY,
    merged_into    text,
    first_seen_at  text NOT NULL,
    primary_email  text,
    purchase_email text,
    state          text,
    digest         text,
    version        bigint NOT NULL DEFAULT 0,
    updated_at     text NOT NULL
);
CREATE INDEX ix_people_merged_into ON people (merged_into);

-- The identifiers each surviving person holds now (scope: the source for customer and order ids).
CREATE TABLE person_identifiers (
    type        text NOT NULL,
    scope       text NOT NULL,
    value       text NOT NULL,
    person_id   text NOT NULL,
    raw         text NOT NULL,
    source      text NOT NULL,
    attached_at text NOT NULL,
    event_id    text,
    PRIMARY KEY (type, scope, value)
);
CREATE INDEX ix_person_identifiers_person ON person_identifiers (person_id);
CREATE INDEX ix_person_identifiers_value ON person_identifiers (type, value);

-- Which person each canonical event was folded into (moved to the survivor on a merge).
CREATE TABLE person_events (
    event_id      text PRIMARY KEY,
    person_id     text NOT NULL,
    canonical_seq bigint NOT NULL
);
CREATE INDEX ix_person_events_person ON person_events (person_id, canonical_seq);

-- Append-only: merges, retirements and detaches. canonical_seq is the log position it happened at
-- (a rebuild re-applies detaches there).
CREATE TABLE identity_log (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,
    person_id     text NOT NULL,
    merged_id     text,
    identifiers   text NOT NULL,
    event_id      text,
    reason        text,
    at            text NOT NULL,
    canonical_seq bigint NOT NULL
);
CREATE INDEX ix_identity_log_person ON identity_log (person_id);
CREATE INDEX ix_identity_log_merged ON identity_log (merged_id);

-- Links refused because they would break an identifier limit, for review.
CREATE TABLE identity_conflicts (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    text NOT NULL,
    at          text NOT NULL,
    people      text NOT NULL,
    identifiers text NOT NULL,
    reason      text NOT NULL,
    attached_to text NOT NULL
);

-- Operator overrides (grant/revoke/clear a product), in the order they were made.
CREATE TABLE person_overrides (
    seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id        text NOT NULL UNIQUE,
    person_id text NOT NULL,
    product   text NOT NULL,
    action    text NOT NULL,
    reason    text,
    at        text NOT NULL
);
CREATE INDEX ix_person_overrides_person ON person_overrides (person_id);

-- Every change of a person's state: what changed and why (an event, a merge, a timer, an override).
CREATE TABLE state_changes (
    seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id text NOT NULL,
    at        text NOT NULL,
    cause     text NOT NULL,
    cause_id  text,
    changes   text NOT NULL,
    digest    text NOT NULL,
    trace_id  text
);
CREATE INDEX ix_state_changes_person ON state_changes (person_id, seq);

-- Durable timers (delayed revocations, lifecycle rules): each key fires once.
CREATE TABLE timers (
    key       text PRIMARY KEY,
    person_id text NOT NULL,
    kind      text NOT NULL,
    name      text NOT NULL,
    due_at    text NOT NULL,
    due_ms    bigint NOT NULL,
    fired_at  text
);
CREATE INDEX ix_timers_due ON timers (fired_at, due_ms);
CREATE INDEX ix_timers_person ON timers (person_id);
