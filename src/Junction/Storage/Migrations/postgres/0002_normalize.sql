-- Canonical events: what normalization made of the raw log. The id is deterministic from the
-- fact, so a retried or backfilled fact is inserted once.
CREATE TABLE canonical_events (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          text NOT NULL UNIQUE,
    raw_id      text NOT NULL,
    source      text NOT NULL,
    type        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    body        jsonb NOT NULL
);
CREATE INDEX ix_canonical_raw ON canonical_events (raw_id);
CREATE INDEX ix_canonical_source_type ON canonical_events (source, type, seq);

-- Every raw event that asserted a canonical event: the first one and any later duplicates of the
-- same fact (orders/create then orders/paid, a webhook then a backfill).
CREATE TABLE canonical_raw (
    raw_id   text NOT NULL,
    event_id text NOT NULL,
    PRIMARY KEY (raw_id, event_id)
);

-- One row per raw event that normalization has looked at.
-- status: mapped | ignored | quarantined | pending (waiting for enrichment or a retry)
CREATE TABLE normalization (
    raw_id          text PRIMARY KEY,
    raw_seq         bigint NOT NULL,
    source          text NOT NULL,
    provider_type   text,
    status          text NOT NULL,
    reason          text,
    attempts        bigint NOT NULL DEFAULT 0,
    next_attempt_at bigint,
    first_failed_at bigint,
    event_count     bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX ix_normalization_status ON normalization (status, next_attempt_at);
CREATE INDEX ix_normalization_source ON normalization (source, status, raw_seq);

CREATE TABLE cursors (
    name     text PRIMARY KEY,
    position bigint NOT NULL
);

-- Responses fetched from a provider's API to complete a thin payload, kept for rebuilds.
CREATE TABLE enrichments (
    raw_id     text NOT NULL,
    key        text NOT NULL,
    body       text NOT NULL,
    fetched_at timestamptz NOT NULL,
    PRIMARY KEY (raw_id, key)
);

-- Schema drift: the field paths seen per source and provider event type, and every change.
CREATE TABLE drift_types (
    source        text NOT NULL,
    provider_type text NOT NULL,
    events_seen   bigint NOT NULL,
    PRIMARY KEY (source, provider_type)
);
CREATE TABLE drift_paths (
    source        text NOT NULL,
    provider_type text NOT NULL,
    path          text NOT NULL,
    seen_count    bigint NOT NULL,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    sample_raw_id text NOT NULL,
    PRIMARY KEY (source, provider_type, path)
);
CREATE TABLE drift_changes (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        text NOT NULL,
    provider_type text NOT NULL,
    path          text NOT NULL,
    change        text NOT NULL,
    detected_at   timestamptz NOT NULL,
    sample_raw_id text NOT NULL
);
