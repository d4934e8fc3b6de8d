-- Chat turns ride on the job queue (portal_core::jobs::chat_turn): every
-- unfinished turn gets its job. A running turn's job comes due when its lease
-- ends (a takeover if no replica renews it); a resumable one's is due now.
INSERT INTO jobs (id, kind, payload, state, run_after, attempts, max_attempts, created_at, updated_at)
SELECT 'chat-turn-' || id, 'chat.turn', json_object('orgId', org_id, 'turnId', id), 'queued',
       CASE status WHEN 'resumable' THEN updated_at ELSE lease_until END, 0, 5, updated_at, updated_at
FROM chat_turns WHERE status IN ('running', 'resumable');
