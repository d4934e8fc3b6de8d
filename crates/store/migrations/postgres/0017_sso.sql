-- Single sign-on: OpenID Providers as data, the links of their subjects to
-- accounts, the memberships a provider signed in (a provider that manages
-- roles refuses manual role changes of those), and spent sign-in states
-- (each state is good for one callback, on any replica).
CREATE TABLE identity_providers (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    issuer               TEXT NOT NULL,
    client_id            TEXT NOT NULL,
    client_secret_sealed TEXT,
    scopes               TEXT NOT NULL,
    groups_claim         TEXT NOT NULL,
    groups_source        TEXT NOT NULL CHECK (groups_source IN ('id_token', 'userinfo')),
    admin_groups         TEXT NOT NULL,
    operator_groups      TEXT NOT NULL,
    org_claim            TEXT,
    org_map              TEXT NOT NULL,
    default_org_id       TEXT REFERENCES organizations(id) ON DELETE SET NULL,
    roles_managed        BOOLEAN NOT NULL,
    jit                  BOOLEAN NOT NULL,
    allowed_domains      TEXT NOT NULL,
    enabled              BOOLEAN NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

CREATE TABLE identity_links (
    idp_id     TEXT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (idp_id, subject)
);
CREATE INDEX identity_links_user ON identity_links (user_id);

CREATE TABLE sso_members (
    org_id     TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    idp_id     TEXT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id, idp_id)
);

CREATE TABLE sso_states (
    state_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sso_states_expiry ON sso_states (expires_at);
