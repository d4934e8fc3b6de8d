//! Every check, by area.

mod compute;
mod database;
mod encryption;
mod iam;
mod loadbalancer;
mod network;
mod other;
mod storage;

#[cfg(test)]
mod clean;

use std::sync::LazyLock;

use super::check::Check;

/// Every check, in a stable order.
pub static CHECKS: LazyLock<Vec<&'static Check>> = LazyLock::new(|| {
    [
        compute::CHECKS,
        storage::CHECKS,
        encryption::CHECKS,
        database::CHECKS,
        network::CHECKS,
        loadbalancer::CHECKS,
        iam::CHECKS,
        other::CHECKS,
    ]
    .iter()
    .flat_map(|area| area.iter())
    .collect()
});

/// The check with this id.
pub fn find(id: &str) -> Option<&'static Check> {
    CHECKS.iter().copied().find(|c| c.id == id)
}
