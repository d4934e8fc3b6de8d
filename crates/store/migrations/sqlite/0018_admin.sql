-- Run-time administration (issue 17): the versioned keyring and the portal settings.
--
-- One row per version of the master secret (`PORTAL_SECRET_KEY`) since the
-- first `portal admin rekey`; none before (everything is version 1). The last
-- row is current: `check_mac` identifies its master secret without revealing
-- it, and `durable_sealed` holds the audit-ledger and approval-binding keys
-- sealed under it, so they outlive a rotation.
CREATE TABLE keyring (
    version        INTEGER PRIMARY KEY,
    check_mac      TEXT NOT NULL,
    durable_sealed TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);

-- Portal-wide settings (branding, sign-in, maintenance, links): one row, JSON
-- (portal_core::portal_settings::PortalSettings); absent until first changed.
CREATE TABLE portal_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
