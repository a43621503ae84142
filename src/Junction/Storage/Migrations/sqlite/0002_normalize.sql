-- Canonical events: what normalization made of the raw log. The id is deterministic from the
-- fact, so a retried or backfilled fact is inserted once.
CREATE TABLE canonical_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    raw_id      TEXT NOT NULL,
    source      TEXT NOT NULL,
    type        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX ix_canonical_raw ON canonical_events (raw_id);
CREATE INDEX ix_canonical_source_type ON canonical_events (source, type, seq);

-- Every raw event that asserted a canonical event: the first one and any later duplicates of the
-- same fact (orders/create then orders/paid, a webhook then a backfill).
CREATE TABLE canonical_raw (
    raw_id   TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (raw_id, event_id)
);

-- One row per raw event that normalization has looked at.
-- status: mapped | ignored | quarantined | pending (waiting for enrichment or a retry)
CREATE TABLE normalization (
    raw_id          TEXT PRIMARY KEY,
    raw_seq         INTEGER NOT NULL,
    source          TEXT NOT NULL,
    provider_type   TEXT,
    status          TEXT NOT NULL,
    reason          TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    first_failed_at INTEGER,
    event_count     INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT NOT NULL
);
CREATE INDEX ix_normalization_status ON normalization (status, next_attempt_at);
CREATE INDEX ix_normalization_source ON normalization (source, status, raw_seq);

CREATE TABLE cursors (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);

-- Responses fetched from a provider's API to complete a thin payload, kept for rebuilds.
CREATE TABLE enrichments (
    raw_id     TEXT NOT NULL,
    key        TEXT NOT NULL,
    body       TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (raw_id, key)
);

-- Schema drift: the field paths seen per source and provider event type, and every change.
CREATE TABLE drift_types (
    source        TEXT NOT NULL,
    provider_type TEXT NOT NULL,
    events_seen   INTEGER NOT NULL,
    PRIMARY KEY (source, provider_type)
);
CREATE TABLE drift_paths (
    source        TEXT NOT NULL,
    provider_type TEXT NOT NULL,
    path          TEXT NOT NULL,
    seen_count    INTEGER NOT NULL,
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    sample_raw_id TEXT NOT NULL,
    PRIMARY KEY (source, provider_type, path)
);
CREATE TABLE drift_changes (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    source        TEXT NOT NULL,
    provider_type TEXT NOT NULL,
    path          TEXT NOT NULL,
    change        TEXT NOT NULL,
    detected_at   TEXT NOT NULL,
    sample_raw_id TEXT NOT NULL
);
