-- Single sign-on, part two: the browser sessions an OIDC sign-in opened (the
-- provider, and its ID token sealed under the data key, for RP-initiated
-- logout's `id_token_hint`), and the organisation setting that turns
-- password sign-in off for its members once single sign-on works.
CREATE TABLE sso_sessions (
    session_id      TEXT PRIMARY KEY REFERENCES auth_sessions(id) ON DELETE CASCADE,
    idp_id          TEXT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    id_token_sealed TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

ALTER TABLE organizations ADD COLUMN password_sign_in BOOLEAN NOT NULL DEFAULT TRUE;
