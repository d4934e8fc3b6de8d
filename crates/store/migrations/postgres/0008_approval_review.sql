-- Approvals: four-eyes that the organisation setting cannot lift (tools that
-- run code or change IAM), and the full arguments sealed (AES-256-GCM, bound
-- to the approval) so that eligible approvers can read what they approve.
ALTER TABLE approvals ADD COLUMN four_eyes BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE approvals ADD COLUMN args_sealed TEXT;
-- The per-requester cap on pending approvals counts these.
CREATE INDEX approvals_requester_pending ON approvals (org_id, requester) WHERE status = 'pending';
-- Executions recorded as started but never finished (the finishing sweep).
CREATE INDEX tool_executions_running ON tool_executions (created_at) WHERE status = 'running';
