-- Invitations the invited person accepts (an org admin no longer enrols an
-- existing account without consent), memberships that are not anyone's default
-- until used, and accounts that must change their one-time password.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

-- NULL until the member first works in the org, so an accepted invitation
-- never becomes the default organisation by itself.
ALTER TABLE org_members ALTER COLUMN last_active_at DROP NOT NULL;

CREATE TABLE invitations (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    invited_by      TEXT NOT NULL,
    -- The account was created for this invitation: accepted at its first sign-in.
    created_account BOOLEAN NOT NULL DEFAULT FALSE,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'accepted', 'declined', 'expired')),
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    decided_at      BIGINT
);
CREATE UNIQUE INDEX invitations_one_pending ON invitations (org_id, user_id) WHERE status = 'pending';
CREATE INDEX invitations_user ON invitations (user_id, status);
