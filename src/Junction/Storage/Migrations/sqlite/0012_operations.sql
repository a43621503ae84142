-- The operations log: every state-changing admin call and CLI verb, with who did it. at is Unix
-- milliseconds; actor is the token's name from admin.tokens (never the token) or 'cli'; detail is
-- short JSON (reason, note, ids), never a secret or a raw email.
CREATE TABLE operations (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    role   TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
