//! Tool definitions: what a tool is called, what it risks, and the typed
//! parameters its arguments are parsed against (and published as JSON Schema).

use serde_json::{json, Map, Value};

/// How dangerous running a tool is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Risk {
    /// Reads only; runs at once.
    Read,
    /// Changes something recoverable; needs an approval.
    Confirm,
    /// Destroys or exposes; needs an approval by someone holding `tools:danger`.
    Danger,
}

impl Risk {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Read => "read",
            Risk::Confirm => "confirm",
            Risk::Danger => "danger",
        }
    }

    /// The risk of a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [Risk::Read, Risk::Confirm, Risk::Danger]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Risk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Risk {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<&str> for Risk {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for Risk {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What running a tool does to the cloud; MCP's `readOnlyHint` and
/// `destructiveHint` are derived from it (and `idempotent`), nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Changes nothing.
    ReadOnly,
    /// Only adds or starts something; nothing existing is lost or interrupted.
    Additive,
    /// May stop, replace, overwrite or delete what exists (stop, reboot,
    /// update, terminate, delete, running a script).
    Destructive,
}

/// The type of a parameter (or of a list item, or of an object field).
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// An OCID; the resource type when it must be one (`compartment` also accepts the tenancy).
    Ocid(Option<&'static str>),
    /// Free text up to `max` characters.
    Text {
        /// Longest accepted value.
        max: usize,
    },
    /// An integer in a range.
    Int {
        /// Smallest.
        min: i64,
        /// Largest.
        max: i64,
    },
    /// A boolean.
    Bool,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// An IPv4 CIDR block (`10.0.0.0/16`), host bits clear.
    Cidr,
    /// Text that must also follow a rule (a name format, a password policy, …).
    Rule(&'static TextRule),
    /// A JSON array of `min..=max` values, each of kind `items`.
    Array {
        /// The kind of every item.
        items: &'static Kind,
        /// Fewest items.
        min: usize,
        /// Most items.
        max: usize,
    },
    /// A JSON object with typed fields; unknown fields are refused and
    /// defaults applied, as for a tool's arguments.
    Object {
        /// Its fields.
        fields: &'static [Param],
        /// Relates fields to each other once each is valid (e.g. a range's
        /// `min` ≤ `max`); the error says why, the path is added.
        check: Option<ObjectCheck>,
    },
    /// Any JSON value: a remote MCP tool's argument whose schema the portal
    /// does not type (the remote server judges it; approvals still bind it).
    Json,
}

/// Relates an object's (valid) fields to each other; the error says why the
/// object is refused.
pub type ObjectCheck = fn(&Map<String, Value>) -> Result<(), String>;

/// A rule that text must follow, beyond its length.
#[derive(Debug, Clone, Copy)]
pub struct TextRule {
    /// Longest accepted value, in characters.
    pub max: usize,
    /// A JSON Schema `pattern` saying the same where a regular expression can
    /// (published to clients; `check` decides).
    pub pattern: Option<&'static str>,
    /// The rule in words, as it follows the field path in an error
    /// (`must be …`); also published in the schema.
    pub rule: &'static str,
    /// True when a value follows the rule.
    pub check: fn(&str) -> bool,
}

/// True for an IPv4 CIDR block whose host bits are zero.
pub fn valid_cidr(v: &str) -> bool {
    let Some((ip, len)) = v.split_once('/') else {
        return false;
    };
    let (Ok(ip), Ok(len)) = (ip.parse::<std::net::Ipv4Addr>(), len.parse::<u32>()) else {
        return false;
    };
    if len > 32 || len == 0 {
        return false;
    }
    let mask = if len == 32 {
        u32::MAX
    } else {
        !(u32::MAX >> len)
    };
    u32::from(ip) & !mask == 0
}

/// One parameter of a tool.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Argument name (camelCase).
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Whether it must be given.
    pub required: bool,
    /// Text for the model and the catalogue.
    pub description: &'static str,
    /// Value used when absent (JSON literal).
    pub default: Option<&'static str>,
    /// Secret values are redacted everywhere but inside the executor.
    pub secret: bool,
}

/// A tool as the catalogue, the gateway and the model see it.
#[derive(Debug, Clone, Copy)]
pub struct ToolSpec {
    /// Name (camelCase, as the reference named them).
    pub name: &'static str,
    /// Category (compute, networking, storage, database, identity, …).
    pub category: &'static str,
    /// Description written for a model.
    pub description: &'static str,
    /// Risk level.
    pub risk: Risk,
    /// What it does to the cloud.
    pub effect: Effect,
    /// Whether repeating a call with the same arguments has no further effect.
    pub idempotent: bool,
    /// Parameters.
    pub params: &'static [Param],
}

/// Marker that replaces a secret value.
pub const REDACTED: &str = "[REDACTED]";

/// Whether `v` is an OCID (of type `ty`; `compartment` also accepts the tenancy, the root compartment).
pub fn valid_ocid(v: &str, ty: Option<&str>) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    let shape = v.len() <= 255
        && parts.len() >= 5
        && parts[0] == "ocid1"
        && v.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        })
        && !parts[parts.len() - 1].is_empty();
    shape
        && match ty {
            None => true,
            Some("compartment") => parts[1] == "compartment" || parts[1] == "tenancy",
            Some(t) => parts[1] == t,
        }
}

fn default_of(p: &Param) -> Option<Value> {
    p.default
        .and_then(|d| serde_json::from_str::<Value>(d).ok())
}

/// JSON Schema of a kind (without the parameter's description).
fn kind_schema(kind: &Kind) -> Value {
    match *kind {
        Kind::Ocid(ty) => json!({
            "type": "string",
            "pattern": match ty {
                Some("compartment") => "^ocid1\\.(compartment|tenancy)\\.[a-z0-9_-]+\\.[a-z0-9_-]*\\.[a-z0-9._-]+$".to_string(),
                Some(t) => format!("^ocid1\\.{t}\\.[a-z0-9_-]+\\.[a-z0-9_-]*\\.[a-z0-9._-]+$"),
                None => "^ocid1\\.[a-z0-9_]+\\.[a-z0-9_-]+\\.[a-z0-9_-]*\\.[a-z0-9._-]+$".to_string(),
            },
            "maxLength": 255
        }),
        Kind::Text { max } => json!({"type": "string", "maxLength": max}),
        Kind::Int { min, max } => {
            json!({"type": "integer", "minimum": min, "maximum": max})
        }
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Enum(values) => json!({"type": "string", "enum": values}),
        Kind::Cidr => {
            json!({"type": "string", "pattern": "^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$"})
        }
        Kind::Rule(r) => {
            let mut s = json!({"type": "string", "maxLength": r.max, "description": r.rule});
            if let Some(p) = r.pattern {
                s["pattern"] = p.into();
            }
            s
        }
        Kind::Array { items, min, max } => json!({
            "type": "array",
            "items": kind_schema(items),
            "minItems": min,
            "maxItems": max,
        }),
        Kind::Object { fields, .. } => object_schema(fields),
        Kind::Json => json!({}),
    }
}

/// JSON Schema of an object with these fields (secret fields marked `writeOnly`).
fn object_schema(fields: &[Param]) -> Value {
    let mut props = Map::new();
    for p in fields {
        let mut s = kind_schema(&p.kind);
        if let Value::Object(m) = &mut s {
            let description = match m.get("description").and_then(Value::as_str) {
                Some(rule) => format!("{} ({rule})", p.description),
                None => p.description.to_string(),
            };
            m.insert("description".into(), description.into());
            if let Some(d) = default_of(p) {
                m.insert("default".into(), d);
            }
            if p.secret {
                m.insert("writeOnly".into(), true.into());
            }
        }
        props.insert(p.name.into(), s);
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name)
        .collect();
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

/// Parses an object's fields: refuses unknown ones (`unknown` names what they
/// are not part of) and bad values, naming the path; applies defaults.
fn check_fields(
    fields: &[Param],
    given: &Map<String, Value>,
    path: &str,
    unknown: &str,
) -> Result<Map<String, Value>, String> {
    if let Some(k) = given
        .keys()
        .find(|k| !fields.iter().any(|p| p.name == k.as_str()))
    {
        return Err(format!("{path}/{k}: {unknown}"));
    }
    let mut out = Map::new();
    for p in fields {
        let at = format!("{path}/{}", p.name);
        let v = match given.get(p.name).filter(|v| !v.is_null()) {
            Some(v) => v,
            None => match default_of(p) {
                Some(d) => {
                    out.insert(p.name.to_string(), check_value(&p.kind, &d, &at)?);
                    continue;
                }
                None if p.required => return Err(format!("{at}: is required")),
                None => continue,
            },
        };
        out.insert(p.name.to_string(), check_value(&p.kind, v, &at)?);
    }
    Ok(out)
}

/// Parses one value of a kind; the error starts with `path`.
fn check_value(kind: &Kind, v: &Value, path: &str) -> Result<Value, String> {
    let bad = |why: &str| Err(format!("{path}: {why}"));
    match *kind {
        Kind::Ocid(ty) => match v.as_str() {
            Some(s) if valid_ocid(s, ty) => {}
            _ => {
                return bad(&format!(
                    "must be an OCID{}",
                    ty.map(|t| format!(" of a {t}")).unwrap_or_default()
                ))
            }
        },
        Kind::Text { max } => match v.as_str() {
            Some(s) if hidden_format(s).is_some() => return bad(&hidden_why(s)),
            Some(s) if plain_text(s, max) => {}
            _ => return bad(&format!("must be text of at most {max} characters")),
        },
        Kind::Int { min, max } => match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => {}
            _ => return bad(&format!("must be an integer from {min} to {max}")),
        },
        Kind::Bool => {
            if !v.is_boolean() {
                return bad("must be true or false");
            }
        }
        Kind::Enum(values) => match v.as_str() {
            Some(s) if values.contains(&s) => {}
            _ => return bad(&format!("must be one of {}", values.join(", "))),
        },
        Kind::Cidr => match v.as_str() {
            Some(s) if valid_cidr(s) => {}
            _ => return bad("must be an IPv4 CIDR block such as 10.0.0.0/16 (host bits zero)"),
        },
        Kind::Rule(r) => match v.as_str() {
            Some(s) if hidden_format(s).is_some() => return bad(&hidden_why(s)),
            Some(s) if plain_text(s, r.max) && (r.check)(s) => {}
            _ => return bad(r.rule),
        },
        Kind::Array { items, min, max } => {
            let list = match v.as_array() {
                Some(l) if (min..=max).contains(&l.len()) => l,
                _ => return bad(&format!("must be a list of {min} to {max} items")),
            };
            return list
                .iter()
                .enumerate()
                .map(|(i, x)| check_value(items, x, &format!("{path}/{i}")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array);
        }
        Kind::Object { fields, check } => {
            let Some(given) = v.as_object() else {
                return bad("must be a JSON object");
            };
            let out = check_fields(fields, given, path, "unknown field")?;
            if let Some(check) = check {
                check(&out).map_err(|why| format!("{path}: {why}"))?;
            }
            return Ok(Value::Object(out));
        }
        Kind::Json => {}
    }
    Ok(v.clone())
}

/// At most `max` characters and no control characters but newlines.
fn plain_text(s: &str, max: usize) -> bool {
    s.chars().count() <= max && !s.chars().any(|c| c.is_control() && c != '\n')
}

/// Whether `c` is an invisible format character (Unicode category Cf): bidi
/// embeddings, overrides and isolates, directional marks, zero-width
/// characters, invisible operators, the BOM, interlinear annotations and tags.
/// They make text shown to an approver read differently from what runs
/// ("Trojan Source"), so tool text refuses them.
pub fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// The first invisible format character in `s`, if any.
fn hidden_format(s: &str) -> Option<char> {
    s.chars().find(|c| is_format_char(*c))
}

/// Why text holding a format character is refused (names the code point).
fn hidden_why(s: &str) -> String {
    let c = hidden_format(s).map(u32::from).unwrap_or_default();
    format!(
        "must not contain invisible formatting or bidirectional control characters (found U+{c:04X})"
    )
}

/// A value with the secret fields inside it replaced.
fn redact_value(kind: &Kind, v: &Value) -> Value {
    match (kind, v) {
        (Kind::Array { items, .. }, Value::Array(l)) => {
            Value::Array(l.iter().map(|x| redact_value(items, x)).collect())
        }
        (Kind::Object { fields, .. }, Value::Object(m)) => redact_fields(fields, m),
        _ => v.clone(),
    }
}

fn redact_fields(fields: &[Param], m: &Map<String, Value>) -> Value {
    Value::Object(
        m.iter()
            .map(|(k, v)| {
                let value = match fields.iter().find(|p| p.name == k) {
                    Some(p) if p.secret => Value::String(REDACTED.into()),
                    Some(p) => redact_value(&p.kind, v),
                    None => v.clone(),
                };
                (k.clone(), value)
            })
            .collect(),
    )
}

/// Words that a title spells in capitals.
const ACRONYMS: &[&str] = &[
    "oci", "aws", "vcn", "vnic", "ocpu", "ip", "iam", "adb", "id", "url", "cidr",
];

impl ToolSpec {
    /// A human title from the camelCase name (`listInstances` → `List
    /// instances`, `getOCIPricing` → `Get OCI pricing`).
    pub fn title(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        let chars: Vec<char> = self.name.chars().collect();
        let mut cur = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_lower = i > 0 && chars[i - 1].is_lowercase();
            if c.is_uppercase() && !cur.is_empty() && (prev_lower || next_lower) {
                words.push(std::mem::take(&mut cur));
            }
            cur.push(c);
        }
        if !cur.is_empty() {
            words.push(cur);
        }
        words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let lower = w.to_lowercase();
                let plural = lower.strip_suffix('s').filter(|st| ACRONYMS.contains(st));
                if ACRONYMS.contains(&lower.as_str()) {
                    lower.to_uppercase()
                } else if let Some(stem) = plural {
                    format!("{}s", stem.to_uppercase())
                } else if w.chars().all(|c| c.is_uppercase()) && w.len() > 1 {
                    w.clone()
                } else if i == 0 {
                    let mut c = lower.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect())
                        .unwrap_or_default()
                } else {
                    lower
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// MCP `readOnlyHint`.
    pub fn read_only(&self) -> bool {
        self.effect == Effect::ReadOnly
    }

    /// MCP `destructiveHint`.
    pub fn destructive(&self) -> bool {
        self.effect == Effect::Destructive
    }

    /// The arguments' JSON Schema (secret fields marked `writeOnly`).
    pub fn schema(&self) -> Value {
        object_schema(self.params)
    }

    /// Parses arguments: refuses unknown fields and bad values (naming the
    /// field path, e.g. `args/rules/0/port`), applies defaults. The result is
    /// what runs and what approvals bind to.
    pub fn validate(&self, args: &Value) -> Result<Map<String, Value>, String> {
        let empty = Map::new();
        let given = match args {
            Value::Object(m) => m,
            Value::Null => &empty,
            _ => return Err("args: must be a JSON object".into()),
        };
        check_fields(
            self.params,
            given,
            "args",
            &format!("unknown argument for {}", self.name),
        )
    }

    /// Checks arguments known before a run (a workflow's tool step), where the
    /// names in `dynamic` get their values only at run time: unknown names,
    /// missing required ones and every static value are refused as
    /// [`ToolSpec::validate`] would, naming the field.
    pub fn validate_static(
        &self,
        given: &Map<String, Value>,
        dynamic: &[&str],
    ) -> Result<(), String> {
        let fixed: Map<String, Value> = given
            .iter()
            .filter(|(k, _)| !dynamic.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(k) = dynamic
            .iter()
            .find(|k| !self.params.iter().any(|p| p.name == **k))
        {
            return Err(format!("args/{k}: unknown argument for {}", self.name));
        }
        // The templated fields are checked at run time, by `validate`.
        let rest: Vec<Param> = self
            .params
            .iter()
            .filter(|p| !dynamic.contains(&p.name))
            .copied()
            .collect();
        let unknown = format!("unknown argument for {}", self.name);
        check_fields(&rest, &fixed, "args", &unknown).map(|_| ())
    }

    /// The arguments with secret values (at any depth) replaced, for anything
    /// that is stored or shown.
    pub fn redact(&self, args: &Map<String, Value>) -> Value {
        redact_fields(self.params, args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: ToolSpec = ToolSpec {
        name: "t",
        category: "compute",
        description: "d",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            Param {
                name: "compartmentId",
                kind: Kind::Ocid(Some("compartment")),
                required: true,
                description: "",
                default: None,
                secret: false,
            },
            Param {
                name: "limit",
                kind: Kind::Int { min: 1, max: 100 },
                required: false,
                description: "",
                default: Some("50"),
                secret: false,
            },
            Param {
                name: "password",
                kind: Kind::Text { max: 64 },
                required: false,
                description: "",
                default: None,
                secret: true,
            },
        ],
    };

    #[test]
    fn validates_defaults_and_redacts() {
        let ok = SPEC
            .validate(&json!({"compartmentId": "ocid1.tenancy.oc1..aaaa", "password": "pw"}))
            .unwrap();
        assert_eq!(ok["limit"], 50);
        assert_eq!(SPEC.redact(&ok)["password"], REDACTED);
        assert!(SPEC
            .validate(&json!({}))
            .unwrap_err()
            .starts_with("args/compartmentId"));
        assert!(SPEC
            .validate(&json!({"compartmentId": "ocid1.instance.oc1..x"}))
            .is_err());
        assert!(SPEC.validate(&json!({"compartmentId": "nope"})).is_err());
        assert!(SPEC
            .validate(&json!({"compartmentId": "ocid1.compartment.oc1..x", "limit": 0}))
            .unwrap_err()
            .starts_with("args/limit"));
        assert!(SPEC
            .validate(&json!({"compartmentId": "ocid1.compartment.oc1..x", "extra": 1}))
            .unwrap_err()
            .contains("unknown"));
        assert!(valid_cidr("10.0.0.0/16") && valid_cidr("192.168.1.0/24"));
        assert!(
            !valid_cidr("10.0.0.1/16")
                && !valid_cidr("10.0.0.0/33")
                && !valid_cidr("10.0.0/16")
                && !valid_cidr("x")
        );
        let schema = SPEC.schema();
        assert_eq!(schema["properties"]["password"]["writeOnly"], true);
        assert_eq!(schema["required"], json!(["compartmentId"]));
    }

    #[test]
    fn text_refuses_bidi_and_other_format_characters_naming_the_path() {
        let spec = ToolSpec {
            params: &[Param {
                name: "note",
                kind: Kind::Text { max: 100 },
                required: true,
                description: "",
                default: None,
                secret: false,
            }],
            ..SPEC
        };
        for c in [
            '\u{202E}',
            '\u{2066}',
            '\u{200B}',
            '\u{200F}',
            '\u{061C}',
            '\u{FEFF}',
            '\u{E0041}',
        ] {
            let err = spec
                .validate(&json!({ "note": format!("Allow{c} all") }))
                .unwrap_err();
            assert!(
                err.starts_with("args/note: must not contain invisible"),
                "{err}"
            );
            assert!(err.contains(&format!("U+{:04X}", u32::from(c))), "{err}");
        }
        assert!(spec
            .validate(&json!({"note": "caf\u{e9} \u{4f60}\u{597d}\nline"}))
            .is_ok());
        let err = NESTED
            .validate(&json!({"rules": [{"code": "A\u{202E}1"}]}))
            .unwrap_err();
        assert!(
            err.starts_with("args/rules/0/code: must not contain invisible"),
            "{err}"
        );
    }

    fn ordered(m: &Map<String, Value>) -> Result<(), String> {
        match (m["min"].as_i64(), m["max"].as_i64()) {
            (Some(a), Some(b)) if a > b => Err("min must not be greater than max".into()),
            _ => Ok(()),
        }
    }

    const CODE: TextRule = TextRule {
        max: 8,
        pattern: Some("^[A-Z][A-Z0-9]*$"),
        rule: "must be capitals and digits, starting with a capital",
        check: |s| {
            s.starts_with(|c: char| c.is_ascii_uppercase())
                && s.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        },
    };

    const RANGE: Kind = Kind::Object {
        fields: &[
            Param {
                name: "min",
                kind: Kind::Int { min: 1, max: 65535 },
                required: true,
                description: "lowest",
                default: None,
                secret: false,
            },
            Param {
                name: "max",
                kind: Kind::Int { min: 1, max: 65535 },
                required: true,
                description: "highest",
                default: None,
                secret: false,
            },
        ],
        check: Some(ordered),
    };

    const NESTED: ToolSpec = ToolSpec {
        name: "n",
        category: "networking",
        description: "d",
        risk: Risk::Danger,
        effect: Effect::Destructive,
        idempotent: false,
        params: &[Param {
            name: "rules",
            kind: Kind::Array {
                items: &Kind::Object {
                    fields: &[
                        Param {
                            name: "code",
                            kind: Kind::Rule(&CODE),
                            required: true,
                            description: "a code",
                            default: None,
                            secret: false,
                        },
                        Param {
                            name: "ports",
                            kind: RANGE,
                            required: false,
                            description: "ports",
                            default: None,
                            secret: false,
                        },
                        Param {
                            name: "stateless",
                            kind: Kind::Bool,
                            required: false,
                            description: "",
                            default: Some("false"),
                            secret: false,
                        },
                        Param {
                            name: "token",
                            kind: Kind::Text { max: 20 },
                            required: false,
                            description: "",
                            default: None,
                            secret: true,
                        },
                    ],
                    check: None,
                },
                min: 1,
                max: 2,
            },
            required: true,
            description: "rules",
            default: None,
            secret: false,
        }],
    };

    #[test]
    fn lists_objects_and_rules_validate_with_paths() {
        let ok = NESTED
            .validate(&json!({"rules": [{"code": "A1", "ports": {"min": 22, "max": 22}, "token": "s3cret"}]}))
            .unwrap();
        assert_eq!(
            ok["rules"][0],
            json!({"code": "A1", "ports": {"min": 22, "max": 22}, "stateless": false, "token": "s3cret"}),
            "defaults applied inside objects"
        );
        let redacted = NESTED.redact(&ok);
        assert_eq!(redacted["rules"][0]["token"], REDACTED);
        assert_eq!(redacted["rules"][0]["code"], "A1");
        let err = |args: Value| NESTED.validate(&args).unwrap_err();
        assert_eq!(
            err(json!({"rules": [{"code": "A1"}, {"code": "a1"}]})),
            "args/rules/1/code: must be capitals and digits, starting with a capital"
        );
        assert_eq!(
            err(json!({"rules": [{"code": "A1", "ports": {"min": 0, "max": 2}}]})),
            "args/rules/0/ports/min: must be an integer from 1 to 65535"
        );
        assert_eq!(
            err(json!({"rules": [{"code": "A1", "ports": {"min": 90, "max": 80}}]})),
            "args/rules/0/ports: min must not be greater than max"
        );
        assert_eq!(
            err(json!({"rules": [{"code": "A1", "ports": {"min": 1}}]})),
            "args/rules/0/ports/max: is required"
        );
        assert_eq!(
            err(json!({"rules": [{"code": "A1", "port": 1}]})),
            "args/rules/0/port: unknown field"
        );
        assert_eq!(
            err(json!({"rules": []})),
            "args/rules: must be a list of 1 to 2 items"
        );
        assert_eq!(
            err(json!({"rules": ["A1"]})),
            "args/rules/0: must be a JSON object"
        );
        assert_eq!(
            err(json!({"rules": [{"code": "TOOLONGCODE"}]})),
            "args/rules/0/code: must be capitals and digits, starting with a capital"
        );

        // Approvals bind to the canonical (RFC 8785) form: key order and
        // spelled-out defaults do not change it.
        let a = NESTED
            .validate(&json!({"rules": [{"ports": {"max": 22, "min": 22}, "code": "A1"}]}))
            .unwrap();
        let b = NESTED
            .validate(&json!({"rules": [{"code": "A1", "stateless": false, "ports": {"min": 22, "max": 22}}]}))
            .unwrap();
        assert_eq!(
            crate::service::approvals::canonical(&a),
            r#"{"rules":[{"code":"A1","ports":{"max":22,"min":22},"stateless":false}]}"#
        );
        let keys = crate::crypto::Keys::derive(&crate::secret::Secret::new(vec![1u8; 32]));
        assert_eq!(
            crate::service::approvals::args_hash(&keys, &a),
            crate::service::approvals::args_hash(&keys, &b)
        );

        let schema = NESTED.schema();
        let rules = &schema["properties"]["rules"];
        assert_eq!(rules["type"], "array");
        assert_eq!(
            (rules["minItems"].as_u64(), rules["maxItems"].as_u64()),
            (Some(1), Some(2))
        );
        let item = &rules["items"];
        assert_eq!(item["additionalProperties"], false);
        assert_eq!(item["required"], json!(["code"]));
        assert_eq!(item["properties"]["token"]["writeOnly"], true);
        assert_eq!(item["properties"]["stateless"]["default"], false);
        assert_eq!(item["properties"]["code"]["pattern"], "^[A-Z][A-Z0-9]*$");
        assert!(item["properties"]["code"]["description"]
            .as_str()
            .unwrap()
            .contains("capitals and digits"));
        assert_eq!(
            item["properties"]["ports"]["properties"]["max"]["maximum"],
            65535
        );
    }
}
