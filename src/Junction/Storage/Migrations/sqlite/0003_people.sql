-- People: what the project stage keeps (identity graph, person state, timers, overrides).
-- Every row here is derived from the log (plus operator overrides and detaches), so
-- `junction rebuild` can drop and recompute it. Times are UTC ISO-8601 text (sortable).

-- One row per person id ever created. merged_into is set when the person was merged into
-- another (the survivor, always the oldest); such rows keep resolving to it.
CREATE TABLE people (
    person_id      TEXT PRIMARY KEY,
    merged_into    TEXT,
    first_seen_at  TEXT NOT NULL,
    primary_email  TEXT,
    purchase_email TEXT,
    state          TEXT,
    digest         TEXT,
    version        INTEGER NOT NULL DEFAULT 0,
    updated_at     TEXT NOT NULL
);
CREATE INDEX ix_people_merged_into ON people (merged_into);

-- The identifiers each surviving person holds now (scope: the source for customer and order ids).
CREATE TABLE person_identifiers (
    type        TEXT NOT NULL,
    scope       TEXT NOT NULL,
    value       TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    raw         TEXT NOT NULL,
    source      TEXT NOT NULL,
    attached_at TEXT NOT NULL,
    event_id    TEXT,
    PRIMARY KEY (type, scope, value)
);
CREATE INDEX ix_person_identifiers_person ON person_identifiers (person_id);
CREATE INDEX ix_person_identifiers_value ON person_identifiers (type, value);

-- Which person each canonical event was folded into (moved to the survivor on a merge).
CREATE TABLE person_events (
    event_id      TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL,
    canonical_seq INTEGER NOT NULL
);
CREATE INDEX ix_person_events_person ON person_events (person_id, canonical_seq);

-- Append-only: merges, retirements and detaches. canonical_seq is the log position it happened at
-- (a rebuild re-applies detaches there).
CREATE TABLE identity_log (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    person_id     TEXT NOT NULL,
    merged_id     TEXT,
    identifiers   TEXT NOT NULL,
    event_id      TEXT,
    reason        TEXT,
    at            TEXT NOT NULL,
    canonical_seq INTEGER NOT NULL
);
CREATE INDEX ix_identity_log_person ON identity_log (person_id);
CREATE INDEX ix_identity_log_merged ON identity_log (merged_id);

-- Links refused because they would break an identifier limit, for review.
CREATE TABLE identity_conflicts (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT NOT NULL,
    at          TEXT NOT NULL,
    people      TEXT NOT NULL,
    identifiers TEXT NOT NULL,
    reason      TEXT NOT NULL,
    attached_to TEXT NOT NULL
);

-- Operator overrides (grant/revoke/clear a product), in the order they were made.
CREATE TABLE person_overrides (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    id        TEXT NOT NULL UNIQUE,
    person_id TEXT NOT NULL,
    product   TEXT NOT NULL,
    action    TEXT NOT NULL,
    reason    TEXT,
    at        TEXT NOT NULL
);
CREATE INDEX ix_person_overrides_person ON person_overrides (person_id);

-- Every change of a person's state: what changed and why (an event, a merge, a timer, an override).
CREATE TABLE state_changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id TEXT NOT NULL,
    at        TEXT NOT NULL,
    cause     TEXT NOT NULL,
    cause_id  TEXT,
    changes   TEXT NOT NULL,
    digest    TEXT NOT NULL,
    trace_id  TEXT
);
CREATE INDEX ix_state_changes_person ON state_changes (person_id, seq);

-- Durable timers (delayed revocations, lifecycle rules): each key fires once.
CREATE TABLE timers (
    key       TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    name      TEXT NOT NULL,
    due_at    TEXT NOT NULL,
    due_ms    INTEGER NOT NULL,
    fired_at  TEXT
);
CREATE INDEX ix_timers_due ON timers (fired_at, due_ms);
CREATE INDEX ix_timers_person ON timers (person_id);
