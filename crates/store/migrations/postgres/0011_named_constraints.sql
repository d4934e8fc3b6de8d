-- Names the uniqueness rules a client can run into, so a violation maps to a
-- field-specific conflict (portal_core::store::Constraint).
ALTER TABLE users RENAME CONSTRAINT users_email_key TO users_email_unique;
ALTER TABLE organizations RENAME CONSTRAINT organizations_slug_key TO organizations_slug_unique;
ALTER TABLE api_keys RENAME CONSTRAINT api_keys_org_id_name_key TO api_keys_name_unique;
ALTER TABLE org_members RENAME CONSTRAINT org_members_pkey TO org_members_member_unique;
ALTER TABLE chat_sessions RENAME CONSTRAINT chat_sessions_pkey TO chat_sessions_id_unique;
