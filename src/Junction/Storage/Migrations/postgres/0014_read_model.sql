-- The dashboard's read model. person_summary and order_summary are kept by the projector in the
-- same transaction as the person state they are derived from (and replaced with it by a rebuild),
-- so a figure over 100 000 people is an indexed aggregate, not a parse of every state.
-- stats_hourly holds counts that are kept where they happen, in the same transaction: intake
-- (accepted, duplicate per source), the rejection log (rejected per source), delivery completions
-- (succeeded, failed attempts, dead per destination). Times are Unix milliseconds.
CREATE TABLE person_summary (
    person_id      text PRIMARY KEY,
    email          text,
    first_seen_ms  bigint NOT NULL,
    consent        bigint NOT NULL,
    first_source   text,
    first_campaign text,
    last_source    text,
    last_campaign  text,
    order_count    bigint NOT NULL,
    test           bigint NOT NULL
);
CREATE INDEX ix_person_summary_seen ON person_summary (first_seen_ms);

CREATE TABLE order_summary (
    source      text NOT NULL,
    order_id    text NOT NULL,
    person_id   text NOT NULL,
    status      text NOT NULL,
    currency    text,
    amount      bigint,
    refunded    bigint NOT NULL,
    paid_ms     bigint,
    refunded_ms bigint,
    test        bigint NOT NULL,
    PRIMARY KEY (source, order_id)
);
CREATE INDEX ix_order_summary_paid ON order_summary (paid_ms);
CREATE INDEX ix_order_summary_refunded ON order_summary (refunded_ms);
CREATE INDEX ix_order_summary_person ON order_summary (person_id);

CREATE TABLE stats_hourly (
    hour_ms bigint NOT NULL,
    metric  text NOT NULL,
    key     text NOT NULL,
    value   bigint NOT NULL,
    PRIMARY KEY (hour_ms, metric, key)
);
