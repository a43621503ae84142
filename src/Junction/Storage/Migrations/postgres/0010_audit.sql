-- The revenue leak audit (src/Junction/Audit). Times are Unix milliseconds.
-- status: running | completed | failed
CREATE TABLE audits (
    id           text PRIMARY KEY,
    trigger_name text NOT NULL,
    started_at   bigint NOT NULL,
    finished_at  bigint,
    status       text NOT NULL,
    window_from  bigint NOT NULL,
    window_to    bigint NOT NULL,
    report       text,
    error        text
);
CREATE INDEX ix_audits_started ON audits (started_at);

-- One row per finding. heal_status is as planned at audit time; a heal re-sync's outcome is read
-- from its delivery (heal_delivery_id).
CREATE TABLE audit_findings (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    audit_id         text NOT NULL,
    point            bigint NOT NULL,
    kind             text NOT NULL,
    person_id        text,
    order_id         text,
    destination      text,
    source           text,
    expected         text NOT NULL,
    observed         text NOT NULL,
    heal_action      text NOT NULL,
    heal_status      text NOT NULL,
    heal_delivery_id bigint,
    amount           bigint,
    currency         text,
    fingerprint      text NOT NULL,
    at               bigint NOT NULL
);
CREATE INDEX ix_audit_findings_audit ON audit_findings (audit_id, point, id);
CREATE INDEX ix_audit_findings_person ON audit_findings (person_id, at);

-- Findings an operator accepted (with a note): the same person and cause is not reported again.
CREATE TABLE audit_accepted (
    fingerprint text PRIMARY KEY,
    finding_id  bigint NOT NULL,
    note        text NOT NULL,
    actor       text,
    at          bigint NOT NULL
);

-- Scheduled audits: one row per object; a node claims a due run by moving next_due_at with a lease,
-- so exactly one node runs it, and a run whose node died is taken over when its lease ends.
CREATE TABLE audit_schedule (
    object      text PRIMARY KEY,
    next_due_at bigint NOT NULL,
    lease_owner text,
    lease_until bigint,
    last_audit  text
);
