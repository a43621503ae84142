-- The dashboard's read model. person_summary and order_summary are kept by the projector in the
-- same transaction as the person state they are derived from (and replaced with it by a rebuild),
-- so a figure over 100 000 people is an indexed aggregate, not a parse of every state.
-- stats_hourly holds counts that are kept where they happen, in the same transaction: intake
-- (accepted, duplicate per source), the rejection log (rejected per source), delivery completions
-- (succeeded, failed attempts, dead per destination). Times are Unix milliseconds.
CREATE TABLE person_summary (
    person_id      TEXT PRIMARY KEY,
    email          TEXT,
    first_seen_ms  INTEGER NOT NULL,
    consent        INTEGER NOT NULL,
    first_source   TEXT,
    first_campaign TEXT,
    last_source    TEXT,
    last_campaign  TEXT,
    order_count    INTEGER NOT NULL,
    test           INTEGER NOT NULL
);
CREATE INDEX ix_person_summary_seen ON person_summary (first_seen_ms);

CREATE TABLE order_summary (
    source      TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    status      TEXT NOT NULL,
    currency    TEXT,
    amount      INTEGER,
    refunded    INTEGER NOT NULL,
    paid_ms     INTEGER,
    refunded_ms INTEGER,
    test        INTEGER NOT NULL,
    PRIMARY KEY (source, order_id)
);
CREATE INDEX ix_order_summary_paid ON order_summary (paid_ms);
CREATE INDEX ix_order_summary_refunded ON order_summary (refunded_ms);
CREATE INDEX ix_order_summary_person ON order_summary (person_id);

CREATE TABLE stats_hourly (
    hour_ms INTEGER NOT NULL,
    metric  TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   INTEGER NOT NULL,
    PRIMARY KEY (hour_ms, metric, key)
);
