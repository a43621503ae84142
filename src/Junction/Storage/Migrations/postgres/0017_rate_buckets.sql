-- A destination's send-rate token bucket, shared by every node of a cluster: without it each node
-- kept its own bucket and N nodes sent N times the configured rate. One row per destination; a node
-- takes a few tokens at a time in one atomic upsert (refill by elapsed time, capped at the burst).
-- tokens: what is left after the last take; last_grant: what that take got; updated_at: unix ms.
CREATE TABLE rate_buckets (
    destination TEXT PRIMARY KEY,
    tokens      DOUBLE PRECISION NOT NULL,
    last_grant  DOUBLE PRECISION NOT NULL,
    updated_at  BIGINT NOT NULL
);
