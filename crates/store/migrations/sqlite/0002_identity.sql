-- Accounts, organisations, membership, sessions, API keys, chat sessions,
-- activity and the audit ledger. Times are Unix epoch milliseconds.
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    password_hash  TEXT,
    platform_admin INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    four_eyes  INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE org_members (
    org_id         TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role           TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at     INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_user ON org_members (user_id, last_active_at DESC);

CREATE TABLE auth_sessions (
    id            TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    active_org_id TEXT REFERENCES organizations(id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    revoked_at    INTEGER,
    ip            TEXT,
    user_agent    TEXT
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    key_prefix    TEXT NOT NULL,
    permissions   TEXT NOT NULL,
    owner_user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    last_used_at  INTEGER,
    UNIQUE (org_id, name)
);

CREATE TABLE chat_sessions (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    principal_id TEXT NOT NULL,
    title        TEXT,
    model        TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'active',
    -- Kept by triggers on chat_messages, so listings need no per-row count.
    message_count INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX chat_sessions_owner ON chat_sessions (org_id, principal_id, updated_at DESC, id);

CREATE TABLE chat_messages (
    id         TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    content    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX chat_messages_session ON chat_messages (session_id, created_at);

-- Sessions per owner, kept by triggers, so a listing's total costs one lookup
-- instead of counting every session the owner has.
CREATE TABLE chat_session_counts (
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    principal_id TEXT NOT NULL,
    total        INTEGER NOT NULL,
    PRIMARY KEY (org_id, principal_id)
);
CREATE TRIGGER chat_sessions_counted AFTER INSERT ON chat_sessions
BEGIN
    INSERT INTO chat_session_counts (org_id, principal_id, total) VALUES (NEW.org_id, NEW.principal_id, 1)
    ON CONFLICT (org_id, principal_id) DO UPDATE SET total = total + 1;
END;
CREATE TRIGGER chat_sessions_uncounted AFTER DELETE ON chat_sessions
BEGIN
    UPDATE chat_session_counts SET total = total - 1 WHERE org_id = OLD.org_id AND principal_id = OLD.principal_id;
END;
CREATE TRIGGER chat_messages_counted AFTER INSERT ON chat_messages
BEGIN
    UPDATE chat_sessions SET message_count = message_count + 1 WHERE id = NEW.session_id;
END;
CREATE TRIGGER chat_messages_uncounted AFTER DELETE ON chat_messages
BEGIN
    UPDATE chat_sessions SET message_count = message_count - 1 WHERE id = OLD.session_id;
END;

CREATE TABLE tool_executions (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    principal_id TEXT NOT NULL,
    tool_name    TEXT NOT NULL,
    category     TEXT NOT NULL,
    risk         TEXT NOT NULL,
    status       TEXT NOT NULL,
    args         TEXT NOT NULL,
    error        TEXT,
    duration_ms  INTEGER,
    approval_id  TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX tool_executions_org ON tool_executions (org_id, created_at DESC, id);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chain      TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    org_id     TEXT,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT,
    outcome    TEXT NOT NULL,
    detail     TEXT NOT NULL,
    ip         TEXT,
    created_at INTEGER NOT NULL,
    prev_mac   TEXT NOT NULL,
    mac        TEXT NOT NULL,
    UNIQUE (chain, seq)
);
CREATE INDEX audit_log_chain_time ON audit_log (chain, created_at DESC);

CREATE TABLE audit_heads (
    chain    TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL,
    mac      TEXT NOT NULL,
    head_mac TEXT NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
