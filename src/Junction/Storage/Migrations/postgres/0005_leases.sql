-- Leadership of the serial stages (normalize, project). The engine's lock (a session advisory lock)
-- keeps a second node out; this row fences the holder: taking the role bumps epoch, and every commit
-- of the stage updates the row WHERE owner and epoch are its own, in the same transaction, and rolls
-- back when that hits no row. A node whose lock connection died cannot commit after a successor
-- took the role. Times are Unix milliseconds.
CREATE TABLE leases (
    role        text PRIMARY KEY,
    owner       text NOT NULL,
    epoch       bigint NOT NULL,
    acquired_at bigint NOT NULL,
    renewed_at  bigint NOT NULL
);

-- Canonical events the projector could not project (the fold or identity step threw): skipped with
-- the reason so the rest of the log moves on. status: poison (skipped; rebuild skips it too) |
-- retry (an operator asked for another attempt; the projector takes it on its next step).
-- A poison event that projects on retry is deleted from here.
CREATE TABLE project_poison (
    canonical_seq bigint PRIMARY KEY,
    event_id      text NOT NULL,
    status        text NOT NULL,
    reason        text NOT NULL,
    attempts      bigint NOT NULL,
    first_at      bigint NOT NULL,
    last_at       bigint NOT NULL
);
