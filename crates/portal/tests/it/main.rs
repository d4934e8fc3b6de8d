//! The portal's integration tests, one test binary: each module drives the
//! real router or binary over HTTP against a real database (SQLite, or
//! PostgreSQL with `PORTAL_TEST_DATABASE_URL`). One binary, not one per file:
//! each links the whole portal (~140 MB in a debug build), so 63 of them cost
//! ~9 GB of disk and a link each. Run one area with a filter, e.g.
//! `cargo test -p portal --test it sso::`.

mod mcp_remote;
mod sso_support;
mod webhook_receiver;
mod workflows_support;

mod access;
mod advisor;
mod advisor_schedules;
mod ai_providers;
mod approval_review;
mod approvals;
mod approvals_chat;
mod audit;
mod auth;
mod backup;
mod chat;
mod chat_control;
mod chat_outage;
mod cli;
mod cli_tools;
mod cloud;
mod compartments;
mod conflicts;
mod connections;
mod events;
mod executions;
mod graph;
mod graph_approvals;
mod graph_snapshot;
mod hardening;
mod jobs;
mod mcp;
mod mcp_servers;
mod members;
mod metrics;
mod ops;
mod org_boundary;
mod outage;
mod outage_refused;
mod pipeline;
mod portal_settings;
mod rekey;
mod revocation;
mod scope;
mod scope_property;
mod search;
mod search_hybrid;
mod signin;
mod signin_burst;
mod sso;
mod sso_policy;
mod tenancy_search;
mod tiers;
mod tools;
mod traces;
mod web_account;
mod web_admin;
mod web_advisor;
mod web_approvals;
mod web_audit;
mod web_chat;
mod web_pages;
mod web_tools;
mod webhooks;
mod webhooks_replicas;
mod webhooks_retries;
mod workflows;
mod workflows_runs;
