-- CloudAdvisor (portal_core::advisor): runs (their job rides on `jobs` as
-- `advisor.run`) and findings, one per organisation, check and resource (the
-- fingerprint, also hashed into the id).
CREATE TABLE advisor_runs (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'skipped')),
    trigger     TEXT NOT NULL CHECK (trigger IN ('manual', 'schedule')),
    schedule_id TEXT,
    tick_at     BIGINT,
    started_by  TEXT NOT NULL,
    principal   TEXT NOT NULL,
    summary     TEXT NOT NULL,
    error       TEXT,
    created_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT
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
    severity_rank   BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'dismissed', 'resolved')),
    title           TEXT NOT NULL,
    evidence        TEXT NOT NULL,
    savings_cents   BIGINT,
    fix             TEXT NOT NULL,
    note            TEXT,
    dismissed_until BIGINT,
    decided_by      TEXT,
    last_run_id     TEXT NOT NULL,
    first_seen_at   BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    resolved_at     BIGINT,
    updated_at      BIGINT NOT NULL,
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
    catch_up_ms   BIGINT NOT NULL,
    jitter_ms     BIGINT NOT NULL,
    max_failures  BIGINT NOT NULL,
    failures      BIGINT NOT NULL,
    paused        BOOLEAN NOT NULL,
    paused_reason TEXT,
    principal     TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    next_at       BIGINT,
    last_tick_at  BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX advisor_schedules_org ON advisor_schedules (org_id, created_at);
