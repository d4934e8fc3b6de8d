-- The durable job runner's queue (portal_core::jobs). A job is `queued` until
-- a runner claims it: then `running` under a lease (`lease_owner` until
-- `lease_until`, ms since the epoch), which the runner renews while it works.
-- A lapsed lease (the replica died) makes the job claimable again. `attempts`
-- counts claims and fences a stale runner's writes; a failed attempt goes back
-- to `queued` at a later `run_after` (retrying), or `dead` with `last_error`
-- after `max_attempts`. `kind` is the job type's stable name, `payload` JSON.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    run_after    BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL CHECK (max_attempts >= 1),
    last_error   TEXT,
    lease_owner  TEXT,
    lease_until  BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
-- Claiming: queued jobs that are due, by kind, oldest due first.
CREATE INDEX jobs_runnable ON jobs (kind, run_after) WHERE state = 'queued';
-- Taking over: running jobs whose lease lapsed.
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
