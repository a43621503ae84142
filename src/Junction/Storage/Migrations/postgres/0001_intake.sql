-- The raw log: every verified webhook, append-only, in seq order. Appends hold a transaction-scoped
-- advisory lock (PostgresStore.AppendLockKey), so commit order equals seq order across nodes and a
-- cursor on seq never skips a row that commits late.
CREATE TABLE raw_events (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           text NOT NULL UNIQUE,
    source       text NOT NULL,
    dedup_key    text NOT NULL,
    received_at  timestamptz NOT NULL,
    trace_id     text NOT NULL,
    content_type text NOT NULL,
    headers      jsonb NOT NULL,
    body         bytea NOT NULL,
    body_sha256  text NOT NULL
);
CREATE UNIQUE INDEX ux_raw_events_dedup ON raw_events (source, dedup_key);
CREATE INDEX ix_raw_events_source ON raw_events (source, seq);

CREATE FUNCTION raw_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'raw_events is append-only';
END;
$$;
CREATE TRIGGER raw_events_no_change BEFORE UPDATE OR DELETE ON raw_events
    FOR EACH ROW EXECUTE FUNCTION raw_events_append_only();

CREATE TABLE rejections (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      text NOT NULL,
    reason      text NOT NULL,
    detail      text NOT NULL,
    received_at timestamptz NOT NULL,
    headers     jsonb NOT NULL
);
CREATE INDEX ix_rejections_source ON rejections (source, seq);
