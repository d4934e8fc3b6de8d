-- Full-text search over chat messages (issue 16, the full-text half).
--
-- `message_search` holds one row per indexed message with what the query
-- filters on (org, principal, session, role, time); its INTEGER PRIMARY KEY is
-- the rowid of the FTS5 table holding the text, so both stay stable under
-- VACUUM (chat_messages' own rowid is not). The FTS5 table is contentless:
-- the text stays in chat_messages only. Triggers keep the index in the
-- message insert's own transaction, and a session's deletion (which cascades
-- to its messages) removes its rows. Running summaries repeat older messages,
-- so they are not indexed. Tokens: Unicode letters and digits, lower-cased,
-- accents kept (like PostgreSQL's `simple` configuration).
CREATE TABLE message_search (
    id           INTEGER PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE REFERENCES chat_messages(id) ON DELETE CASCADE,
    org_id       TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX message_search_owner ON message_search (org_id, principal_id, created_at);

CREATE VIRTUAL TABLE message_search_fts USING fts5(
    content,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER chat_messages_indexed AFTER INSERT ON chat_messages
WHEN NEW.role <> 'summary'
BEGIN
    INSERT INTO message_search (message_id, org_id, principal_id, session_id, role, created_at)
    SELECT NEW.id, s.org_id, s.principal_id, NEW.session_id, NEW.role, NEW.created_at
    FROM chat_sessions s WHERE s.id = NEW.session_id;
    INSERT INTO message_search_fts (rowid, content)
    SELECT id, NEW.content FROM message_search WHERE message_id = NEW.id;
END;

CREATE TRIGGER chat_messages_unindexed BEFORE DELETE ON chat_messages
BEGIN
    DELETE FROM message_search_fts
    WHERE rowid = (SELECT id FROM message_search WHERE message_id = OLD.id);
    DELETE FROM message_search WHERE message_id = OLD.id;
END;

CREATE TRIGGER chat_messages_reindexed AFTER UPDATE OF content ON chat_messages
BEGIN
    UPDATE message_search_fts SET content = NEW.content
    WHERE rowid = (SELECT id FROM message_search WHERE message_id = NEW.id);
END;

-- Backfill: the messages stored before this migration.
INSERT INTO message_search (message_id, org_id, principal_id, session_id, role, created_at)
SELECT m.id, s.org_id, s.principal_id, m.session_id, m.role, m.created_at
FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id
WHERE m.role <> 'summary';
INSERT INTO message_search_fts (rowid, content)
SELECT f.id, m.content FROM message_search f JOIN chat_messages m ON m.id = f.message_id;
