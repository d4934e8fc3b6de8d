-- Run-time administration (issue 17): the versioned keyring.
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
