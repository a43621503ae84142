-- Leadership of the serial stages (normalize, project). The engine's lock (a file lock; SQLite has one writer anyway)
-- keeps a second node out; this row fences the holder: taking the role bumps epoch, and every commit
-- of the stage updates the row WHERE owner and epoch are its own, in the same transaction, and rolls
-- back when that hits no row. A node whose lock connection died cannot commit after a successor
-- took the role. Times are Unix milliseconds.
CREATE TABLE leases (
    role        TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    epoch       INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL,
    renewed_at  INTEGER NOT NULL
);

-- Canonical events the projector could not project (the fold or identity step threw): skipped with
-- the reason so the rest of the log moves on. status: poison (skipped; rebuild skips it too) |
-- retry (an operator asked for another attempt; the projector takes it on its next step).
-- A poison event that projects on retry is deleted from here.
CREATE TABLE project_poison (
    canonical_seq INTEGER PRIMARY KEY,
    event_id      TEXT NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    first_at      INTEGER NOT NULL,
    last_at       INTEGER NOT NULL
);
