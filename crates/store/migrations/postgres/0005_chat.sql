-- Chat conversations, turns and stream events.
--
-- Messages get their position in the session (`seq`, from 1) and JSON details
-- (`meta`); the triggers counting them on chat_sessions are unchanged. Turns are
-- the work started by one user message: at most one unfinished turn per session,
-- run by one replica at a time under a lease. Events are the turn's stream,
-- replayed to followers by `seq`; appending them notifies `portal_chat_events`
-- with the session id, which every replica LISTENs to.
ALTER TABLE chat_messages ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chat_messages ADD COLUMN meta TEXT;
-- Number the messages already stored, in the order they were said.
UPDATE chat_messages SET seq = r.n
FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY created_at, id) AS n FROM chat_messages) AS r
WHERE r.id = chat_messages.id;
ALTER TABLE chat_messages ALTER COLUMN seq DROP DEFAULT;
-- Serves the session lookups the (session_id, created_at) index served.
CREATE UNIQUE INDEX chat_messages_seq ON chat_messages (session_id, seq);
DROP INDEX chat_messages_session;

CREATE TABLE chat_turns (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    session_id   TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    principal_id TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('running', 'awaiting_approval', 'resumable', 'done', 'failed')),
    approval_id  TEXT,
    state        TEXT NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX chat_turns_session ON chat_turns (session_id, created_at);
-- One unfinished turn per session, enforced here so racing replicas cannot both start one.
CREATE UNIQUE INDEX chat_turns_unfinished ON chat_turns (session_id)
    WHERE status IN ('running', 'awaiting_approval', 'resumable');
CREATE INDEX chat_turns_approval ON chat_turns (approval_id) WHERE approval_id IS NOT NULL;
-- Turns a replica may claim: resumable ones, and running ones whose lease lapsed.
CREATE INDEX chat_turns_claimable ON chat_turns (status, lease_until)
    WHERE status IN ('running', 'resumable');

CREATE TABLE chat_events (
    session_id TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    turn_id    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
