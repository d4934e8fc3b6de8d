//! Parameters many tools share, and the shapes of the plainest tools.

use portal_core::tools::{Kind, Param};

/// The compartment to act in; the tenancy's root compartment when absent.
pub(crate) const COMPARTMENT: Param = Param {
    name: "compartmentId",
    kind: Kind::Ocid(Some("compartment")),
    required: false,
    description: "OCID of the compartment (default: the tenancy's root compartment)",
    default: None,
    secret: false,
};

/// The compartment a list searches; every compartment the organisation may
/// use when absent (`tenancy::FAN_OUT`).
pub(crate) const ANY_COMPARTMENT: Param = Param {
    name: "compartmentId",
    kind: Kind::Ocid(Some("compartment")),
    required: false,
    description:
        "OCID of the compartment to list (default: every compartment your organisation may use)",
    default: None,
    secret: false,
};

/// How many items a list tool returns at most.
pub(crate) const LIMIT: Param = Param {
    name: "limit",
    kind: Kind::Int { min: 1, max: 1000 },
    required: false,
    description: "Most items to return",
    default: Some("100"),
    secret: false,
};

/// The instance a compute tool acts on.
pub(crate) const INSTANCE: Param = Param {
    name: "instanceId",
    kind: Kind::Ocid(Some("instance")),
    required: true,
    description: "OCID of the instance",
    default: None,
    secret: false,
};

/// Restricts a networking list to one VCN.
pub(crate) const VCN_FILTER: Param = Param {
    name: "vcnId",
    kind: Kind::Ocid(Some("vcn")),
    required: false,
    description: "Only those of this VCN",
    default: None,
    secret: false,
};

/// A window of whole days back from today.
pub(crate) const DAYS: Param = Param {
    name: "days",
    kind: Kind::Int { min: 1, max: 90 },
    required: false,
    description: "How many days back from today",
    default: Some("30"),
    secret: false,
};

/// A read tool that gets one resource by its OCID.
macro_rules! get_tool {
    ($name:literal, $cat:literal, $desc:literal, $param:literal, $ty:literal) => {
        portal_core::tools::ToolSpec {
            name: $name,
            category: $cat,
            description: $desc,
            risk: portal_core::tools::Risk::Read,
            effect: portal_core::tools::Effect::ReadOnly,
            idempotent: true,
            params: &[portal_core::tools::Param {
                name: $param,
                kind: portal_core::tools::Kind::Ocid(Some($ty)),
                required: true,
                description: "OCID of the resource",
                default: None,
                secret: false,
            }],
        }
    };
}

/// A read tool with these parameters.
macro_rules! list_tool {
    ($name:literal, $cat:literal, $desc:literal, [$($p:expr),*]) => {
        portal_core::tools::ToolSpec { name: $name, category: $cat, description: $desc, risk: portal_core::tools::Risk::Read, effect: portal_core::tools::Effect::ReadOnly, idempotent: true, params: &[$($p),*] }
    };
}

pub(crate) use {get_tool, list_tool};
