-- Workflows (portal_core::workflows): definitions with their draft, frozen
-- versions that runs execute, runs (changed only at the revision they were
-- read at), one step row per node that became due, and each run's events
-- (the stream's replay, by `seq`). Step jobs ride on `jobs` (`workflow.step`).
CREATE TABLE workflows (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    owner_id    TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    tags        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    version     BIGINT NOT NULL,
    definition  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX workflows_org ON workflows (org_id, updated_at);

CREATE TABLE workflow_versions (
    workflow_id  TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    org_id       TEXT NOT NULL,
    version      BIGINT NOT NULL,
    definition   TEXT NOT NULL,
    published_by TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, version)
);

CREATE TABLE workflow_runs (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'suspended', 'completed', 'failed', 'cancelled')),
    input       TEXT NOT NULL,
    output      TEXT,
    error       TEXT,
    started_by  TEXT NOT NULL,
    principal   TEXT NOT NULL,
    steps_used  BIGINT NOT NULL,
    max_steps   BIGINT NOT NULL,
    event_seq   BIGINT NOT NULL,
    rev         BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX workflow_runs_org ON workflow_runs (org_id, created_at);
CREATE INDEX workflow_runs_workflow ON workflow_runs (workflow_id, created_at);

CREATE TABLE workflow_steps (
    run_id      TEXT NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
    org_id      TEXT NOT NULL,
    node_id     TEXT NOT NULL,
    node_type   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'running', 'waiting', 'completed', 'failed', 'skipped')),
    attempt     BIGINT NOT NULL,
    input       TEXT,
    output      TEXT,
    error       TEXT,
    approval_id TEXT,
    deadline    BIGINT,
    started_at  BIGINT,
    finished_at BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (run_id, node_id)
);
-- A decided tool approval finds the step waiting for it.
CREATE INDEX workflow_steps_approval ON workflow_steps (org_id, approval_id) WHERE approval_id IS NOT NULL;

CREATE TABLE workflow_run_events (
    run_id     TEXT NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    org_id     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
