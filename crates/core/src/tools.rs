//! Tool definitions: what a tool is called, what it risks, and the typed
//! parameters its arguments are parsed against (and published as JSON Schema).

use serde_json::{json, Map, Value};

/// How dangerous running a tool is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// The type of a parameter.
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

impl ToolSpec {
    /// The arguments' JSON Schema (secret fields marked `writeOnly`).
    pub fn schema(&self) -> Value {
        let mut props = Map::new();
        for p in self.params {
            let mut s = match p.kind {
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
            };
            if let Value::Object(m) = &mut s {
                m.insert("description".into(), p.description.into());
                if let Some(d) = p
                    .default
                    .and_then(|d| serde_json::from_str::<Value>(d).ok())
                {
                    m.insert("default".into(), d);
                }
                if p.secret {
                    m.insert("writeOnly".into(), true.into());
                }
            }
            props.insert(p.name.into(), s);
        }
        let required: Vec<&str> = self
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name)
            .collect();
        json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
    }

    /// Parses arguments: refuses unknown fields and bad values (naming the
    /// field), applies defaults. The result is what runs and what approvals bind to.
    pub fn validate(&self, args: &Value) -> Result<Map<String, Value>, String> {
        let empty = Map::new();
        let given = match args {
            Value::Object(m) => m,
            Value::Null => &empty,
            _ => return Err("args: must be a JSON object".into()),
        };
        if let Some(unknown) = given
            .keys()
            .find(|k| !self.params.iter().any(|p| p.name == k.as_str()))
        {
            return Err(format!(
                "args/{unknown}: unknown argument for {}",
                self.name
            ));
        }
        let mut out = Map::new();
        for p in self.params {
            let v = match given.get(p.name).filter(|v| !v.is_null()) {
                Some(v) => v.clone(),
                None => match p
                    .default
                    .and_then(|d| serde_json::from_str::<Value>(d).ok())
                {
                    Some(d) => d,
                    None if p.required => return Err(format!("args/{}: is required", p.name)),
                    None => continue,
                },
            };
            let bad = |why: &str| format!("args/{}: {why}", p.name);
            match p.kind {
                Kind::Ocid(ty) => match v.as_str() {
                    Some(s) if valid_ocid(s, ty) => {}
                    _ => {
                        return Err(bad(&format!(
                            "must be an OCID{}",
                            ty.map(|t| format!(" of a {t}")).unwrap_or_default()
                        )))
                    }
                },
                Kind::Text { max } => match v.as_str() {
                    Some(s)
                        if s.chars().count() <= max
                            && !s.chars().any(|c| c.is_control() && c != '\n') => {}
                    _ => return Err(bad(&format!("must be text of at most {max} characters"))),
                },
                Kind::Int { min, max } => match v.as_i64() {
                    Some(n) if (min..=max).contains(&n) => {}
                    _ => return Err(bad(&format!("must be an integer from {min} to {max}"))),
                },
                Kind::Bool => {
                    if !v.is_boolean() {
                        return Err(bad("must be true or false"));
                    }
                }
                Kind::Enum(values) => match v.as_str() {
                    Some(s) if values.contains(&s) => {}
                    _ => return Err(bad(&format!("must be one of {}", values.join(", ")))),
                },
                Kind::Cidr => match v.as_str() {
                    Some(s) if valid_cidr(s) => {}
                    _ => {
                        return Err(bad(
                            "must be an IPv4 CIDR block such as 10.0.0.0/16 (host bits zero)",
                        ))
                    }
                },
            }
            out.insert(p.name.to_string(), v);
        }
        Ok(out)
    }

    /// The arguments with secret values replaced, for anything that is stored or shown.
    pub fn redact(&self, args: &Map<String, Value>) -> Value {
        Value::Object(
            args.iter()
                .map(|(k, v)| {
                    let secret = self.params.iter().any(|p| p.name == k && p.secret);
                    (
                        k.clone(),
                        if secret {
                            Value::String(REDACTED.into())
                        } else {
                            v.clone()
                        },
                    )
                })
                .collect(),
        )
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
}
