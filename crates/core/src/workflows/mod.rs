//! Workflows: definitions (a DAG of typed nodes, validated on save, frozen on
//! publish), CEL expressions and templates, and the durable executor that runs
//! each step as a job, parks runs for approvals holding no worker, and goes
//! through the tool gateway as the run's starter.

pub mod definition;
pub mod engine;
pub mod executor;
pub mod expr;
pub mod graph;
pub mod model;
pub mod run_control;
pub mod runs;
pub mod schema;
pub mod service;
pub mod step_job;
pub mod validate;

pub use definition::Definition;
pub use executor::Executor;

#[cfg(test)]
mod tests;
