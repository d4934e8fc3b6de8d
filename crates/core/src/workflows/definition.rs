//! A workflow definition as written (JSON or YAML, "workflows as code"): its
//! graph of typed nodes and edges. Serde shapes are the wire shapes, so
//! export(import(x)) is x for every definition this accepts.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::rbac::{Permission, Role};

/// The editable body of a workflow (what import and export carry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Definition {
    /// Name, 1–255 characters.
    pub name: String,
    /// What it is for, at most 2000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Free tags for search.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// JSON Schema (a subset: type, required, properties, enum) a run's input must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    /// Most steps one run may execute (default 100; a retry counts its steps too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u32>,
    /// The steps.
    pub nodes: Vec<Node>,
    /// Which step follows which.
    #[serde(default)]
    pub edges: Vec<Edge>,
}

/// Where a node is drawn (the designer's; ignored by the executor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// Horizontal (a JSON number kept as written, so export is exact).
    pub x: serde_json::Number,
    /// Vertical.
    pub y: serde_json::Number,
}

/// One step of the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// Unique within the definition; expressions name outputs by it (`steps.<id>`).
    pub id: String,
    /// Shown instead of the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Designer position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// What the step does.
    #[serde(flatten)]
    pub kind: NodeKind,
}

/// The node kinds and their settings (`{"type": "...", "data": {...}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "kebab-case")]
pub enum NodeKind {
    /// The run's input becomes this step's output.
    Input(InputNode),
    /// Runs a catalogue tool through the gateway as the run's starter.
    Tool(ToolNode),
    /// Evaluates an expression; outgoing edges say which branch (`branch`).
    Condition(ConditionNode),
    /// Waits for a person to approve.
    Approval(ApprovalNode),
    /// Asks a model (validated; not run yet).
    AiStep(AiStepNode),
    /// For-each over a list (validated; not run yet).
    Loop(LoopNode),
    /// Branches as sub-graphs (validated; not run yet).
    Parallel(ParallelNode),
    /// Maps outputs of earlier steps to the run's output.
    Output(OutputNode),
}

impl NodeKind {
    /// The kind's wire name.
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Input(_) => "input",
            NodeKind::Tool(_) => "tool",
            NodeKind::Condition(_) => "condition",
            NodeKind::Approval(_) => "approval",
            NodeKind::AiStep(_) => "ai-step",
            NodeKind::Loop(_) => "loop",
            NodeKind::Parallel(_) => "parallel",
            NodeKind::Output(_) => "output",
        }
    }
}

/// `input` settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InputNode {}

/// `tool` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolNode {
    /// A tool of the catalogue.
    pub tool_name: String,
    /// Arguments: literals, or strings that are templates (see [`super::expr::Template`]).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub args: Map<String, Value>,
}

/// `condition` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConditionNode {
    /// A CEL expression giving a boolean.
    pub expression: String,
}

/// Who may decide an approval step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Approvers {
    /// At least this role (`viewer` < `operator` < `admin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Holding this permission (as named on the wire, e.g. `tools:approve`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "permission_name"
    )]
    pub permission: Option<Permission>,
}

/// What a rejected (or timed-out) approval does to the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnReject {
    /// The run fails.
    #[default]
    Fail,
    /// The run ends here, completed; the steps after the approval are skipped.
    End,
}

/// `approval` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalNode {
    /// What the approver is asked (a template).
    pub message: String,
    /// Who may decide (default: anyone with `workflows:execute`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvers: Option<Approvers>,
    /// Minutes before the request lapses; a lapse counts as a rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_minutes: Option<u32>,
    /// What a rejection or lapse does.
    #[serde(default, skip_serializing_if = "is_default")]
    pub on_reject: OnReject,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// `ai-step` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AiStepNode {
    /// The prompt (a template).
    pub prompt: String,
    /// Model id (default: the configured one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// JSON Schema the answer must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
}

/// How a loop's iterations run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoopMode {
    /// One after the other.
    #[default]
    Sequential,
    /// Up to `concurrency` at once.
    Parallel,
}

/// `loop` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoopNode {
    /// CEL expression giving the list.
    pub items: String,
    /// The body's nodes (ids of this definition).
    #[serde(default)]
    pub body: Vec<String>,
    /// Sequential or bounded-parallel.
    #[serde(default, skip_serializing_if = "is_default")]
    pub mode: LoopMode,
    /// At most this many iterations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iterations: Option<u32>,
    /// CEL expression ending the loop early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_condition: Option<String>,
}

/// How a parallel node's branches combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Merge {
    /// Every branch must finish.
    #[default]
    All,
    /// Any branch succeeding is enough.
    Any,
    /// The first branch to finish decides.
    First,
}

/// `parallel` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParallelNode {
    /// Each branch's nodes (ids of this definition).
    pub branches: Vec<Vec<String>>,
    /// How the branches combine.
    #[serde(default, skip_serializing_if = "is_default")]
    pub merge: Merge,
    /// Stop at the first failure (else collect every outcome).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub fail_fast: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// `output` settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutputNode {
    /// Output field → CEL expression; empty: every step's output.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub mapping: Map<String, Value>,
}

/// An edge: `target` follows `source`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Edge {
    /// Unique within the definition.
    pub id: String,
    /// The earlier node.
    pub source: String,
    /// The later node.
    pub target: String,
    /// Shown on the edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// From a condition: taken when its result is this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<bool>,
}

/// Serde for an optional permission by wire name.
mod permission_name {
    use crate::rbac::Permission;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Option<Permission>, s: S) -> Result<S::Ok, S::Error> {
        match p {
            Some(p) => s.serialize_str(p.as_str()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Permission>, D::Error> {
        let name: Option<String> = Option::deserialize(d)?;
        name.map(|n| n.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

impl Definition {
    /// Parses a definition from JSON, naming the field that is wrong.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| format!("{}: {}", e.path(), e.inner()))
    }

    /// Parses a definition from a JSON value, naming the field that is wrong.
    pub fn from_value(v: Value) -> Result<Self, String> {
        serde_path_to_error::deserialize(v).map_err(|e| format!("{}: {}", e.path(), e.inner()))
    }

    /// The definition as JSON (the export format).
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }
}
