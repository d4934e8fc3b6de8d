//! CloudAdvisor: checks as data ([`check`], [`checks`]) evaluated over read
//! tools called through the one gateway as the run's principal ([`scan`]),
//! findings keyed by their fingerprint (check × resource) with a lifecycle
//! ([`reconcile`]), runs on the job runner ([`job`]) and what adapters call
//! ([`service`]).

pub mod check;
pub mod checks;
pub mod job;
pub mod model;
pub mod reconcile;
pub mod scan;
pub mod schedule;
pub mod schedules;
pub mod service;
pub mod tick;

pub use check::{Prices, StorageClass};
pub use job::RunHandler;

/// Attempts of one run's job (each crash or store hiccup is one).
pub const RUN_ATTEMPTS: i64 = 3;
