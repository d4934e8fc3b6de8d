-- The webhook outbox: every event the portal emits (tool executions, approval
-- requests and decisions), stored durably so nothing is lost before webhook
-- delivery exists. The id is the global order, and integrations poll by it
-- (appends serialise on an advisory lock so ids become visible in order; see
-- `append_event`). A future dispatcher delivers undelivered rows, oldest
-- first, and stamps `delivered_at`.
CREATE TABLE events (
    id           BIGSERIAL PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    delivered_at BIGINT
);
-- An organisation's events in order (polling).
CREATE INDEX events_org ON events (org_id, id);
-- What is left to deliver, oldest first (the dispatcher's queue).
CREATE INDEX events_undelivered ON events (id) WHERE delivered_at IS NULL;
