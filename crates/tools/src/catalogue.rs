//! A tool as one value: its spec and the function that runs it, so a spec
//! cannot be published without something that runs it. The catalogue is
//! assembled from the areas' lists at compile time and indexed by name once.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use portal_core::service::tools::ToolError;
use portal_core::tools::ToolSpec;
use serde_json::{Map, Value};

use crate::OciTools;

/// A tool's validated arguments.
pub(crate) type Args = Map<String, Value>;

/// What a tool call gives back.
pub(crate) type Outcome = Result<Value, ToolError>;

/// A running tool call, borrowing the catalogue and the arguments.
pub type BoxFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, ToolError>> + Send + 'a>>;

/// Runs one tool with validated arguments.
pub type Run = for<'a> fn(&'a OciTools, &'a Map<String, Value>) -> BoxFuture<'a>;

/// One tool: what it is and what runs it.
#[derive(Clone, Copy)]
pub struct Tool {
    /// Its name, parameters and risk.
    pub spec: ToolSpec,
    /// Its implementation.
    pub(crate) run: Run,
}

impl Tool {
    /// Runs the tool on `tools` with validated arguments.
    pub fn run<'a>(&self, tools: &'a OciTools, args: &'a Map<String, Value>) -> BoxFuture<'a> {
        (self.run)(tools, args)
    }
}

/// A cloud tool and the [`OciTools`] method that is its implementation (one
/// method per tool, no dispatch on the name): `tool!(list_instances, ToolSpec { .. })`.
macro_rules! tool {
    ($run:ident, $spec:expr) => {
        $crate::catalogue::Tool {
            spec: $spec,
            run: |t, args| Box::pin(t.$run(args)),
        }
    };
}
pub(crate) use tool;

const fn count(areas: &[&[Tool]]) -> usize {
    let (mut n, mut i) = (0, 0);
    while i < areas.len() {
        n += areas[i].len();
        i += 1;
    }
    n
}

/// The areas' tools as one array (at compile time).
const fn concat<const N: usize>(areas: &[&[Tool]]) -> [Tool; N] {
    let mut out = [areas[0][0]; N];
    let (mut i, mut k) = (0, 0);
    while i < areas.len() {
        let mut j = 0;
        while j < areas[i].len() {
            out[k] = areas[i][j];
            k += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

/// The specs of these tools, in the same order.
const fn specs<const N: usize>(tools: &[Tool; N]) -> [ToolSpec; N] {
    let mut out = [tools[0].spec; N];
    let mut i = 0;
    while i < N {
        out[i] = tools[i].spec;
        i += 1;
    }
    out
}

/// Every area's tools, in catalogue order.
const AREAS: &[&[Tool]] = &[
    crate::compute::TOOLS,
    crate::network::TOOLS,
    crate::loadbalancer::TOOLS,
    crate::blockstorage::TOOLS,
    crate::objectstorage::TOOLS,
    crate::artifacts::TOOLS,
    crate::database::TOOLS,
    crate::identity::TOOLS,
    crate::limits::TOOLS,
    crate::search::TOOLS,
    crate::billing::TOOLS,
    crate::observability::TOOLS,
    crate::logging::TOOLS,
    crate::pricing::TOOLS,
    crate::terraform::TOOLS,
];

const N: usize = count(AREAS);
const ALL: [Tool; N] = concat(AREAS);
const ALL_SPECS: [ToolSpec; N] = specs(&ALL);

/// Every tool.
pub static CATALOGUE: &[Tool] = &ALL;

/// Every tool's spec, in the order of [`CATALOGUE`].
pub static SPECS: &[ToolSpec] = &ALL_SPECS;

/// Name → position in [`CATALOGUE`] and [`SPECS`], built on first use.
static INDEX: LazyLock<HashMap<&'static str, usize>> =
    LazyLock::new(|| SPECS.iter().enumerate().map(|(i, s)| (s.name, i)).collect());

/// The tool with this name.
pub fn find(name: &str) -> Option<&'static Tool> {
    INDEX.get(name).map(|&i| &CATALOGUE[i])
}

/// The spec of the tool with this name.
pub fn spec(name: &str) -> Option<&'static ToolSpec> {
    INDEX.get(name).map(|&i| &SPECS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_finds_every_tool_at_its_own_place() {
        assert_eq!(INDEX.len(), SPECS.len());
        for (t, s) in CATALOGUE.iter().zip(SPECS) {
            assert_eq!(t.spec.name, s.name);
            assert_eq!(find(s.name).map(|t| t.spec.name), Some(s.name));
            assert!(std::ptr::eq(spec(s.name).unwrap_or(&SPECS[0]), s));
        }
        assert!(find("noSuchTool").is_none());
    }
}
