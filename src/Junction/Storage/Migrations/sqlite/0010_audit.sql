-- The revenue leak audit (src/Junction/Audit). Times are Unix milliseconds.
-- status: running | completed | failed
CREATE TABLE audits (
    id           TEXT PRIMARY KEY,
    trigger_name TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    status       TEXT NOT NULL,
    window_from  INTEGER NOT NULL,
    window_to    INTEGER NOT NULL,
    report       TEXT,
    error        TEXT
);
CREATE INDEX ix_audits_started ON audits (started_at);

-- One row per finding. heal_status is as planned at audit time; a heal re-sync's outcome is read
-- from its delivery (heal_delivery_id).
CREATE TABLE audit_findings (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    audit_id         TEXT NOT NULL,
    point            INTEGER NOT NULL,
    kind             TEXT NOT NULL,
    person_id        TEXT,
    order_id         TEXT,
    destination      TEXT,
    source           TEXT,
    expected         TEXT NOT NULL,
    observed         TEXT NOT NULL,
    heal_action      TEXT NOT NULL,
    heal_status      TEXT NOT NULL,
    heal_delivery_id INTEGER,
    amount           INTEGER,
    currency         TEXT,
    fingerprint      TEXT NOT NULL,
    at               INTEGER NOT NULL
);
CREATE INDEX ix_audit_findings_audit ON audit_findings (audit_id, point, id);
CREATE INDEX ix_audit_findings_person ON audit_findings (person_id, at);

-- Findings an operator accepted (with a note): the same person and cause is not reported again.
CREATE TABLE audit_accepted (
    fingerprint TEXT PRIMARY KEY,
    finding_id  INTEGER NOT NULL,
    note        TEXT NOT NULL,
    actor       TEXT,
    at          INTEGER NOT NULL
);

-- Scheduled audits: one row per object; a node claims a due run by moving next_due_at with a lease,
-- so exactly one node runs it, and a run whose node died is taken over when its lease ends.
CREATE TABLE audit_schedule (
    object      TEXT PRIMARY KEY,
    next_due_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    last_audit  TEXT
);
