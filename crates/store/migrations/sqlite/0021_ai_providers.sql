-- AI model providers as data (issue 17 item 3): admins add them at run time
-- beside the bootstrap provider of PORTAL_AI_*. The API key is sealed with
-- the keyring (its version prefixed), so `portal admin rekey` re-seals it.
-- A provider whose last test failed (test_status 'failed') is not offered.
CREATE TABLE ai_providers (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL
                   CHECK (kind IN ('openai-compatible', 'anthropic', 'oci', 'azure-openai')),
    base_url       TEXT NOT NULL,
    api_key_sealed TEXT,
    models         TEXT NOT NULL,
    default_model  TEXT NOT NULL,
    enabled        INTEGER NOT NULL,
    test_status    TEXT NOT NULL CHECK (test_status IN ('untested', 'ok', 'failed')),
    test_error     TEXT,
    tested_at      INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CONSTRAINT ai_providers_name_unique UNIQUE (name)
);
