-- Vector search over chat messages (issue 16, the vector half).
--
-- One row per chunk of an indexed message per embedding model, the vector as
-- little-endian f32 bytes. The database is the source of truth; replicas keep
-- an in-memory copy per organisation and catch up by `seq`, a per-organisation
-- counter bumped in the writing transaction (`embedding_seqs`'s row lock
-- serialises an org's writers, so `seq` order is commit order and a reader
-- that has seen `seq = n` can never later find a smaller one appear). A
-- message's deletion (a session's deletion cascades to its messages) deletes
-- its rows.
CREATE TABLE embeddings (
    org_id       TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    principal_id TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    message_id   TEXT NOT NULL REFERENCES chat_messages(id) ON DELETE CASCADE,
    chunk        BIGINT NOT NULL,
    model        TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    vector       BYTEA NOT NULL,
    PRIMARY KEY (org_id, seq),
    UNIQUE (message_id, model, chunk)
);
CREATE INDEX embeddings_model ON embeddings (model, org_id, seq);

CREATE TABLE embedding_seqs (
    org_id TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL
);
