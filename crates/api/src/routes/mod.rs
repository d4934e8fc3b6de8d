//! Feature routers, merged in one place ([`crate::app`]).

pub mod activity;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod chat;
pub mod chat_sdk;
pub mod compartments;
pub mod events;
pub mod health;
pub mod idp;
pub mod invitations;
pub mod keys;
pub mod listing;
pub mod mcp;
pub mod mcp_wire;
pub mod ops;
pub mod org;
pub mod search;
pub mod sessions;
pub mod setup;
pub mod tools;
pub mod webhook_views;
pub mod webhooks;
pub mod workflow_runs;
pub mod workflow_stream;
pub mod workflows;
