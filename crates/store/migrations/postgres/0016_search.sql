-- Full-text search over chat messages (issue 16, the full-text half).
--
-- One row per indexed message with what the query filters on (org,
-- principal, session, role, time) and its `tsvector` (the `simple`
-- configuration: lower-cased words, no stemming or stop words, so both
-- backends match the same words), under a GIN index. A trigger keeps it in the
-- message insert's own transaction; deleting a message (a session's deletion
-- cascades to its messages) deletes its row. Running summaries repeat older
-- messages, so they are not indexed.
CREATE TABLE message_search (
    id           BIGSERIAL PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE REFERENCES chat_messages(id) ON DELETE CASCADE,
    org_id       TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    doc          TSVECTOR NOT NULL
);
CREATE INDEX message_search_owner ON message_search (org_id, principal_id, created_at);
CREATE INDEX message_search_doc ON message_search USING GIN (doc);

CREATE FUNCTION chat_message_index() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE message_search SET doc = to_tsvector('simple', NEW.content) WHERE message_id = NEW.id;
    ELSIF NEW.role <> 'summary' THEN
        INSERT INTO message_search (message_id, org_id, principal_id, session_id, role, created_at, doc)
        SELECT NEW.id, s.org_id, s.principal_id, NEW.session_id, NEW.role, NEW.created_at,
               to_tsvector('simple', NEW.content)
        FROM chat_sessions s WHERE s.id = NEW.session_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER chat_messages_indexed AFTER INSERT OR UPDATE OF content ON chat_messages
    FOR EACH ROW EXECUTE FUNCTION chat_message_index();

-- Backfill: the messages stored before this migration.
INSERT INTO message_search (message_id, org_id, principal_id, session_id, role, created_at, doc)
SELECT m.id, s.org_id, s.principal_id, m.session_id, m.role, m.created_at, to_tsvector('simple', m.content)
FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id
WHERE m.role <> 'summary';
