-- Forgetting a person (R8.4, docs/data-rights.md). The erasure record outlives the person: when,
-- who, which person id, and a salted hash of each address so a later event carrying one is flagged.
CREATE TABLE erasures (
    id          text PRIMARY KEY,
    at          bigint NOT NULL,
    actor       text NOT NULL,
    person_id   text NOT NULL,
    events      bigint NOT NULL,
    raw_events  bigint NOT NULL,
    deliveries  bigint NOT NULL,
    -- The key that seals the addresses in this erasure's destination deletions (Kit and Teachable
    -- find a contact by address); set to NULL once every one succeeded, which shreds the sealed copy.
    seal_key    text
);
CREATE INDEX ix_erasures_person ON erasures (person_id);

-- HMAC-SHA256 of the normalized address with the install's salt (install_secrets 'erasure_salt').
CREATE TABLE erased_emails (
    hash       text PRIMARY KEY,
    erasure_id text NOT NULL
);

-- The erased person's canonical events: kept, redacted, as anonymous money records; the projector
-- and the rebuild both leave them out (as they do project_poison), so a rebuild stays identical.
CREATE TABLE erased_events (
    canonical_seq bigint PRIMARY KEY,
    event_id      text NOT NULL,
    erasure_id    text NOT NULL
);

-- The raw events whose bodies an erasure redacted: the one exception to the append-only log.
CREATE TABLE erased_raw (
    raw_id     text PRIMARY KEY,
    erasure_id text NOT NULL
);

CREATE TABLE install_secrets (
    name  text PRIMARY KEY,
    value text NOT NULL
);

-- raw_events stays append-only, except that an erasure may rewrite the body (and a dedup key that
-- quotes an address: Mailchimp's, for a member without an id) of a raw event it has listed in
-- erased_raw in the same transaction; nothing else may change, and no row may be deleted.
CREATE OR REPLACE FUNCTION raw_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND EXISTS (SELECT 1 FROM erased_raw WHERE raw_id = OLD.id)
       AND NEW.seq = OLD.seq AND NEW.id = OLD.id AND NEW.source = OLD.source
       AND NEW.received_at = OLD.received_at AND NEW.trace_id = OLD.trace_id AND NEW.content_type = OLD.content_type THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'raw_events is append-only';
END;
$$;
