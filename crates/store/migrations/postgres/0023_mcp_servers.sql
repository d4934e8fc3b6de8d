-- Remote MCP servers of an organisation (issue 17 item 5): their tools join
-- the organisation's catalogue as <name>__<tool>. The credentials (bearer and
-- headers, as JSON) are sealed with the keyring, so `portal admin rekey`
-- re-seals them. tools is the snapshot of the last refresh (JSON); risks the
-- admin's risk per tool (JSON object; absent tools are 'confirm').
CREATE TABLE mcp_servers (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    url                TEXT NOT NULL,
    credentials_sealed TEXT,
    enabled            BOOLEAN NOT NULL,
    health             TEXT NOT NULL CHECK (health IN ('unknown', 'ok', 'failed')),
    last_error         TEXT,
    checked_at         BIGINT,
    tools              TEXT NOT NULL,
    risks              TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    CONSTRAINT mcp_servers_name_unique UNIQUE (org_id, name)
);
