-- Webhook subscriptions, their delivery queue and the log of every attempt.
-- Pending deliveries are rows (the job runner only holds a job for the head
-- of each active subscription's queue); the body is fixed at queueing so
-- every retry sends the same bytes under the same webhook-id (msg_id).
CREATE TABLE webhooks (
    id                     TEXT PRIMARY KEY,
    org_id                 TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    url                    TEXT NOT NULL,
    description            TEXT NOT NULL,
    event_types            TEXT NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('active', 'paused', 'disabled')),
    secret_sealed          TEXT NOT NULL,
    previous_secret_sealed TEXT,
    previous_expires_at    BIGINT,
    failing_since          BIGINT,
    disabled_reason        TEXT,
    created_by             TEXT NOT NULL,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX webhooks_org ON webhooks (org_id, created_at);

CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    webhook_id      TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id        BIGINT,
    redelivery      BIGINT NOT NULL,
    msg_id          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT
);
-- One fan-out per subscription and event (replicas racing to queue it make one row).
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (webhook_id, event_id, redelivery);
-- Each subscription's queue in order, and its log newest first.
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (webhook_id, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id);

CREATE TABLE webhook_attempts (
    id              BIGSERIAL PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    delivery_id     BIGINT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt         BIGINT NOT NULL,
    at              BIGINT NOT NULL,
    status_code     BIGINT,
    outcome         TEXT NOT NULL,
    latency_ms      BIGINT NOT NULL,
    response        TEXT NOT NULL,
    next_attempt_at BIGINT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
