//! The portal's core: configuration, domain types and the storage contract.
//!
//! Nothing here knows about HTTP or SQL; adapters (the API, the CLI) and the
//! storage backends depend on this crate, never the other way round.

pub mod config;
pub mod health;
pub mod secret;
pub mod store;

pub use config::{ConfigError, DatabaseKind, Environment, LogFormat, Settings};
pub use secret::Secret;
pub use store::{Availability, Backend, PoolStats, Store, StoreError};
