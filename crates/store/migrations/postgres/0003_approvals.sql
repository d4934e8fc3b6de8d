-- Approvals for tools that change the cloud: bound to the organisation, the
-- requesting principal, the tool and the SHA-256 of the canonical (RFC 8785)
-- validated arguments; single-use; expiring.
CREATE TABLE approvals (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    requester     TEXT NOT NULL,
    tool_name     TEXT NOT NULL,
    risk          TEXT NOT NULL,
    args_hash     TEXT NOT NULL,
    args_redacted TEXT NOT NULL,
    tool_call_id  TEXT,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'consumed', 'expired')),
    decided_by    TEXT,
    reason        TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    decided_at    BIGINT,
    consumed_at   BIGINT
);
CREATE INDEX approvals_org_status ON approvals (org_id, status, created_at DESC);
CREATE INDEX approvals_binding ON approvals (org_id, requester, tool_name, args_hash, created_at DESC);
-- One pending approval per binding: a repeated request reuses it.
CREATE UNIQUE INDEX approvals_one_pending ON approvals (org_id, requester, tool_name, args_hash) WHERE status = 'pending';
