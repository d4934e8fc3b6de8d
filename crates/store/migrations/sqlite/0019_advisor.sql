-- CloudAdvisor (portal_core::advisor): runs (their job rides on `jobs` as
-- `advisor.run`) and findings, one per organisation, check and resource (the
-- fingerprint, also hashed into the id).
CREATE TABLE advisor_runs (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'skipped')),
    trigger     TEXT NOT NULL CHECK (trigger IN ('manual', 'schedule')),
    schedule_id TEXT,
    tick_at     INTEGER,
    started_by  TEXT NOT NULL,
    principal   TEXT NOT NULL,
    summary     TEXT NOT NULL,
    error       TEXT,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER
);
CREATE INDEX advisor_runs_org ON advisor_runs (org_id, created_at);
CREATE INDEX advisor_runs_schedule ON advisor_runs (schedule_id, status) WHERE schedule_id IS NOT NULL;

CREATE TABLE advisor_findings (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    check_id        TEXT NOT NULL,
    resource_id     TEXT NOT NULL,
    resource_name   TEXT NOT NULL,
    category        TEXT NOT NULL CHECK (category IN ('cost', 'security', 'availability', 'performance')),
    severity        TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    severity_rank   INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'dismissed', 'resolved')),
    title           TEXT NOT NULL,
    evidence        TEXT NOT NULL,
    savings_cents   INTEGER,
    fix             TEXT NOT NULL,
    note            TEXT,
    dismissed_until INTEGER,
    decided_by      TEXT,
    last_run_id     TEXT NOT NULL,
    first_seen_at   INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    resolved_at     INTEGER,
    updated_at      INTEGER NOT NULL,
    CONSTRAINT advisor_findings_fingerprint UNIQUE (org_id, check_id, resource_id)
);
CREATE INDEX advisor_findings_org ON advisor_findings (org_id, status, severity_rank, last_seen_at);

-- Schedules: a cron pattern (UTC); each tick is one \`advisor.tick\` job whose
-- id names the schedule and the tick; \`next_at\` fences concurrent ticks.
CREATE TABLE advisor_schedules (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    cron          TEXT NOT NULL,
    overlap       TEXT NOT NULL CHECK (overlap IN ('skip', 'allow')),
    catch_up_ms   INTEGER NOT NULL,
    jitter_ms     INTEGER NOT NULL,
    max_failures  INTEGER NOT NULL,
    failures      INTEGER NOT NULL,
    paused        INTEGER NOT NULL,
    paused_reason TEXT,
    principal     TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    next_at       INTEGER,
    last_tick_at  INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX advisor_schedules_org ON advisor_schedules (org_id, created_at);
