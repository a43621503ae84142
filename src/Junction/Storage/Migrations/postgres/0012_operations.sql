-- The operations log: every state-changing admin call and CLI verb, with who did it. at is Unix
-- milliseconds; actor is the token's name from admin.tokens (never the token) or 'cli'; detail is
-- short JSON (reason, note, ids), never a secret or a raw email.
CREATE TABLE operations (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     bigint NOT NULL,
    actor  text NOT NULL,
    role   text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    detail text NOT NULL
);
