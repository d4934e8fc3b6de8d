-- Invitations the invited person accepts (an org admin no longer enrols an
-- existing account without consent), memberships that are not anyone's default
-- until used, and accounts that must change their one-time password.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;

-- last_active_at becomes nullable: NULL until the member first works in the org,
-- so an accepted invitation never becomes the default organisation by itself.
CREATE TABLE org_members_v7 (
    org_id         TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role           TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at     INTEGER NOT NULL,
    last_active_at INTEGER,
    PRIMARY KEY (org_id, user_id)
);
INSERT INTO org_members_v7 (org_id, user_id, role, created_at, last_active_at)
    SELECT org_id, user_id, role, created_at, last_active_at FROM org_members;
DROP TABLE org_members;
ALTER TABLE org_members_v7 RENAME TO org_members;
CREATE INDEX org_members_user ON org_members (user_id, last_active_at DESC);

CREATE TABLE invitations (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    invited_by      TEXT NOT NULL,
    -- The account was created for this invitation: accepted at its first sign-in.
    created_account INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'accepted', 'declined', 'expired')),
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    decided_at      INTEGER
);
CREATE UNIQUE INDEX invitations_one_pending ON invitations (org_id, user_id) WHERE status = 'pending';
CREATE INDEX invitations_user ON invitations (user_id, status);
