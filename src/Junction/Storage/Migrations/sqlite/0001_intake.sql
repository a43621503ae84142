-- The raw log: every verified webhook, append-only, in arrival order (seq).
CREATE TABLE raw_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    source       TEXT NOT NULL,
    dedup_key    TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    trace_id     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    headers      TEXT NOT NULL,
    body         BLOB NOT NULL,
    body_sha256  TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_raw_events_dedup ON raw_events (source, dedup_key);
CREATE INDEX ix_raw_events_source ON raw_events (source, seq);

CREATE TRIGGER raw_events_no_update BEFORE UPDATE ON raw_events
BEGIN
    SELECT RAISE(ABORT, 'raw_events is append-only');
END;
CREATE TRIGGER raw_events_no_delete BEFORE DELETE ON raw_events
BEGIN
    SELECT RAISE(ABORT, 'raw_events is append-only');
END;

-- Refused requests, without bodies; trimmed to the most recent rows on every append.
CREATE TABLE rejections (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    received_at TEXT NOT NULL,
    headers     TEXT NOT NULL
);
CREATE INDEX ix_rejections_source ON rejections (source, seq);
