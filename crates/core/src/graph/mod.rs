//! Graph analytics without a graph database: the resource graph of a
//! tenancy built in process (petgraph) from the read tools, with blast
//! radius, exposure paths and orphans; the usage graph of an organisation
//! from its own tool executions. Everything is scoped to one organisation;
//! resource queries share the organisation's short-lived tenancy snapshot.

pub mod impact;
pub mod model;
pub mod queries;
pub mod read;
pub mod resources;
pub mod service;
pub mod snapshot;
pub mod usage;
pub mod usage_cache;
