-- Forgetting a person (R8.4, docs/data-rights.md). The erasure record outlives the person: when,
-- who, which person id, and a salted hash of each address so a later event carrying one is flagged.
CREATE TABLE erasures (
    id          TEXT PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    events      INTEGER NOT NULL,
    raw_events  INTEGER NOT NULL,
    deliveries  INTEGER NOT NULL,
    -- The key that seals the addresses in this erasure's destination deletions (Kit and Teachable
    -- find a contact by address); set to NULL once every one succeeded, which shreds the sealed copy.
    seal_key    TEXT
);
CREATE INDEX ix_erasures_person ON erasures (person_id);

-- HMAC-SHA256 of the normalized address with the install's salt (install_secrets 'erasure_salt').
CREATE TABLE erased_emails (
    hash       TEXT PRIMARY KEY,
    erasure_id TEXT NOT NULL
);

-- The erased person's canonical events: kept, redacted, as anonymous money records; the projector
-- and the rebuild both leave them out (as they do project_poison), so a rebuild stays identical.
CREATE TABLE erased_events (
    canonical_seq INTEGER PRIMARY KEY,
    event_id      TEXT NOT NULL,
    erasure_id    TEXT NOT NULL
);

-- The raw events whose bodies an erasure redacted: the one exception to the append-only log.
CREATE TABLE erased_raw (
    raw_id     TEXT PRIMARY KEY,
    erasure_id TEXT NOT NULL
);

CREATE TABLE install_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- raw_events stays append-only, except that an erasure may rewrite the body (and a dedup key that
-- quotes an address: Mailchimp's, for a member without an id) of a raw event it has listed in
-- erased_raw in the same transaction; nothing else of the row may change, and no row may be deleted.
DROP TRIGGER raw_events_no_update;
CREATE TRIGGER raw_events_no_update BEFORE UPDATE ON raw_events
WHEN NOT EXISTS (SELECT 1 FROM erased_raw WHERE raw_id = OLD.id)
    OR NEW.seq IS NOT OLD.seq OR NEW.id IS NOT OLD.id OR NEW.source IS NOT OLD.source
    OR NEW.received_at IS NOT OLD.received_at OR NEW.trace_id IS NOT OLD.trace_id OR NEW.content_type IS NOT OLD.content_type
BEGIN
    SELECT RAISE(ABORT, 'raw_events is append-only');
END;
