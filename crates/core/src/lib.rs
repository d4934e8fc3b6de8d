//! The portal's core: configuration, domain types and rules, and the storage
//! contract.
//!
//! Nothing here knows about HTTP or SQL; adapters (the API, the CLI) and the
//! storage backends depend on this crate, never the other way round.

pub mod advisor;
pub mod ai_providers;
pub mod audit;
pub mod chat_control;
pub mod config;
pub mod crypto;
pub mod error;
pub mod graph;
pub mod hashing;
pub mod health;
pub mod identity;
pub mod ids;
pub mod jobs;
pub mod journal;
pub mod keyring;
pub mod kinds;
pub mod mcp;
pub mod model;
pub mod outbound;
pub mod portal_settings;
pub mod rbac;
pub mod search;
pub mod secret;
pub mod service;
pub mod sso;
pub mod status;
pub mod store;
pub mod throttle;
pub mod tools;
pub mod validate;
pub mod webhooks;
pub mod workflows;

pub use config::{CloudMode, ConfigError, DatabaseKind, Environment, LogFormat, Settings};
pub use error::{CoreError, CoreResult};
pub use secret::Secret;
pub use store::{Availability, Backend, PoolStats, Store, StoreError};
