-- Per-organisation compartment policy: a JSON array of compartment OCIDs the
-- organisation's tools may act in (with their sub-compartments). NULL: no restriction.
ALTER TABLE organizations ADD COLUMN allowed_compartments TEXT;
