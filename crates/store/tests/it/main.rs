//! The storage contract, one test binary: every check runs on SQLite and,
//! with `PORTAL_TEST_DATABASE_URL`, on PostgreSQL. One binary rather than one
//! per aggregate keeps the debug build's disk and link time down. Run one
//! aggregate with a filter, e.g. `cargo test -p portal-store --test it mcp_servers::`.

#[macro_use]
mod support;

mod activity;
mod ai_providers;
mod api_keys;
mod approvals;
mod audit;
mod auth_sessions;
mod chat_control;
mod chat_events;
mod chat_migration;
mod chat_sessions;
mod chat_turn_jobs;
mod chat_turns;
mod embeddings;
mod events;
mod invitations;
mod jobs;
mod journal;
mod mcp_servers;
mod members;
mod orgs;
mod search;
mod search_migration;
mod users;
mod workflows;
