//! The pages, one module per area.

pub mod activity;
pub mod approvals;
pub mod home;
pub mod login;
pub mod setup;
