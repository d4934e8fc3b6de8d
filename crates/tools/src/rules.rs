//! OCI's rules for the values the creating tools send, as argument kinds:
//! refused with a 400 naming the field before an approval is even asked for,
//! rather than by the cloud after one was spent.

use portal_core::tools::{valid_cidr, Kind, Param, TextRule};
use serde_json::{Map, Value};

/// An Autonomous Database name: a letter, then letters and digits, at most 14.
pub const DB_NAME: TextRule = TextRule {
    max: 14,
    pattern: Some("^[A-Za-z][A-Za-z0-9]{0,13}$"),
    rule: "must start with a letter and hold only letters and digits, at most 14",
    check: |s| {
        s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric())
    },
};

/// OCI's password policy for an Autonomous Database's ADMIN user.
pub const ADB_PASSWORD: TextRule = TextRule {
    max: 30,
    pattern: None,
    rule: "must be 12 to 30 characters with an upper-case letter, a lower-case letter and a digit, and contain neither a double quote nor the word admin",
    check: |s| {
        (12..=30).contains(&s.chars().count())
            && s.chars().any(|c| c.is_ascii_uppercase())
            && s.chars().any(|c| c.is_ascii_lowercase())
            && s.chars().any(|c| c.is_ascii_digit())
            && !s.contains('"')
            && !s.to_ascii_lowercase().contains("admin")
    },
};

/// An OpenSSH public key line (`ssh-ed25519 AAAA… comment`).
pub const SSH_PUBLIC_KEY: TextRule = TextRule {
    max: 16_384,
    pattern: Some("^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+=*( .*)?$"),
    rule: "must be one OpenSSH public key line, e.g. ssh-ed25519 AAAA… user@host",
    check: |s| {
        let mut parts = s.splitn(3, ' ');
        let (Some(kind), Some(data)) = (parts.next(), parts.next()) else {
            return false;
        };
        matches!(
            kind,
            "ssh-rsa"
                | "ssh-ed25519"
                | "ssh-dss"
                | "ecdsa-sha2-nistp256"
                | "ecdsa-sha2-nistp384"
                | "ecdsa-sha2-nistp521"
        ) && data.starts_with("AAAA")
            && data
                .trim_end_matches('=')
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
            && !s.contains('\n')
    },
};

/// An Object Storage bucket name (OCI: letters, digits, '-', '_' and '.').
/// It becomes a path segment, so `.` and `..` are refused: the URL parser
/// would resolve them and move the signed request (`GET /n/{ns}/`).
pub const BUCKET_NAME: TextRule = TextRule {
    max: 256,
    pattern: Some("^[A-Za-z0-9._-]{1,256}$"),
    rule: "must be 1 to 256 letters, digits, '-', '_' or '.', and not '.' or '..'",
    check: |s| {
        path_segment(s)
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    },
};

/// A name a tool puts into a request path (a backend set, a service, a limit):
/// one non-empty segment that is not `.` or `..`.
pub const PATH_NAME: TextRule = TextRule {
    max: 200,
    pattern: Some("^[^/]{1,200}$"),
    rule: "must be a name of 1 to 200 characters without '/', and not '.' or '..'",
    check: |s| path_segment(s) && !s.contains('/'),
};

/// Non-empty and not a dot segment.
fn path_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".."
}

/// An IAM policy name.
pub const POLICY_NAME: TextRule = TextRule {
    max: 100,
    pattern: Some("^[A-Za-z0-9 ._-]{1,100}$"),
    rule: "must be 1 to 100 letters, digits, spaces, '.', '-' or '_'",
    check: |s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_'))
    },
};

/// One IAM policy statement.
pub const POLICY_STATEMENT: TextRule = TextRule {
    max: 2_000,
    pattern: None,
    rule: "must be a policy statement starting with Allow, Endorse, Admit or Define",
    check: |s| {
        let first = s.split_whitespace().next().unwrap_or("");
        ["allow", "endorse", "admit", "define"]
            .iter()
            .any(|w| first.eq_ignore_ascii_case(w))
            && !s.contains('\n')
    },
};

/// A security rule's peer: any IPv4 CIDR block, `0.0.0.0/0` (everywhere) included.
pub const PEER_CIDR: TextRule = TextRule {
    max: 18,
    pattern: Some("^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$"),
    rule: "must be an IPv4 CIDR block such as 10.0.0.0/16 or 0.0.0.0/0 (host bits zero)",
    check: |s| s == "0.0.0.0/0" || valid_cidr(s),
};

const fn field(name: &'static str, kind: Kind, required: bool, description: &'static str) -> Param {
    Param {
        name,
        kind,
        required,
        description,
        default: None,
        secret: false,
    }
}

const PORT: Kind = Kind::Int {
    min: 1,
    max: 65_535,
};

/// A port range `{min, max}`, both 1 to 65535, `min` ≤ `max`.
const PORT_RANGE: Kind = Kind::Object {
    fields: &[
        field("min", PORT, true, "First port"),
        field(
            "max",
            PORT,
            true,
            "Last port (the same as min for one port)",
        ),
    ],
    check: Some(|m| {
        match (
            m.get("min").and_then(Value::as_i64),
            m.get("max").and_then(Value::as_i64),
        ) {
            (Some(min), Some(max)) if min > max => {
                Err(format!("min ({min}) must not be greater than max ({max})"))
            }
            _ => Ok(()),
        }
    }),
};

/// TCP or UDP options: the ports a rule covers.
const PORT_OPTIONS: Kind = Kind::Object {
    fields: &[
        field(
            "destinationPortRange",
            PORT_RANGE,
            false,
            "Destination ports (absent: all)",
        ),
        field(
            "sourcePortRange",
            PORT_RANGE,
            false,
            "Source ports (absent: all)",
        ),
    ],
    check: None,
};

const ICMP_OPTIONS: Kind = Kind::Object {
    fields: &[
        field(
            "type",
            Kind::Int { min: 0, max: 255 },
            true,
            "ICMP type, e.g. 3 (destination unreachable)",
        ),
        field(
            "code",
            Kind::Int { min: 0, max: 255 },
            false,
            "ICMP code (absent: all codes of the type)",
        ),
    ],
    check: None,
};

/// Protocol numbers a security rule accepts.
const PROTOCOL: Param = field(
    "protocol",
    Kind::Enum(&["6", "17", "1", "all"]),
    true,
    "6 = TCP, 17 = UDP, 1 = ICMP, all = every protocol",
);

/// Options only go with their protocol (tcpOptions with 6, …).
fn options_match_protocol(rule: &Map<String, Value>) -> Result<(), String> {
    let protocol = rule.get("protocol").and_then(Value::as_str).unwrap_or("");
    for (options, wanted, name) in [
        ("tcpOptions", "6", "TCP"),
        ("udpOptions", "17", "UDP"),
        ("icmpOptions", "1", "ICMP"),
    ] {
        if rule.contains_key(options) && protocol != wanted {
            return Err(format!("{options} needs protocol \"{wanted}\" ({name})"));
        }
    }
    Ok(())
}

macro_rules! security_rule {
    ($peer:literal, $peer_description:literal) => {
        Kind::Object {
            fields: &[
                PROTOCOL,
                field($peer, Kind::Rule(&PEER_CIDR), true, $peer_description),
                Param {
                    name: "isStateless",
                    kind: Kind::Bool,
                    required: false,
                    description: "Stateless (no connection tracking; replies need their own rule)",
                    default: Some("false"),
                    secret: false,
                },
                field(
                    "description",
                    Kind::Text { max: 255 },
                    false,
                    "What the rule is for",
                ),
                field("tcpOptions", PORT_OPTIONS, false, "Ports, for protocol 6"),
                field("udpOptions", PORT_OPTIONS, false, "Ports, for protocol 17"),
                field(
                    "icmpOptions",
                    ICMP_OPTIONS,
                    false,
                    "Type and code, for protocol 1",
                ),
            ],
            check: Some(options_match_protocol),
        }
    };
}

/// OCI's `IngressSecurityRule`, for a CIDR source.
pub const INGRESS_RULE: Kind = security_rule!(
    "source",
    "Where traffic may come from: a CIDR block (0.0.0.0/0 is the whole internet)"
);

/// OCI's `EgressSecurityRule`, for a CIDR destination.
pub const EGRESS_RULE: Kind = security_rule!(
    "destination",
    "Where traffic may go: a CIDR block (0.0.0.0/0 is the whole internet)"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_accept_what_oci_accepts_and_nothing_else() {
        let ok = |r: &TextRule, s: &str| (r.check)(s);
        assert!(ok(&DB_NAME, "SALES2") && ok(&DB_NAME, "a") && ok(&DB_NAME, "ABCDEFGHIJKLMN"));
        assert!(!ok(&DB_NAME, "2SALES") && !ok(&DB_NAME, "sales_db") && !ok(&DB_NAME, ""));
        assert!(ok(&ADB_PASSWORD, "Welcome12345#") && ok(&ADB_PASSWORD, "Abcdefghijk1"));
        for bad in [
            "Short1A",
            "alllowercase123",
            "ALLUPPERCASE123",
            "NoDigitsAtAllHere",
            "Has\"Quote12345",
            "MyAdmin12345x",
            "Abcdefghijk1Abcdefghijk1Abcdefg",
        ] {
            assert!(!ok(&ADB_PASSWORD, bad), "{bad}");
        }
        assert!(ok(
            &SSH_PUBLIC_KEY,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9v user@host"
        ));
        assert!(ok(
            &SSH_PUBLIC_KEY,
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ=="
        ));
        assert!(
            !ok(&SSH_PUBLIC_KEY, "ssh-ed25519")
                && !ok(&SSH_PUBLIC_KEY, "-----BEGIN PUBLIC KEY-----")
        );
        assert!(!ok(&SSH_PUBLIC_KEY, "ssh-rsa AAAA;rm -rf /"));
        assert!(
            ok(&POLICY_NAME, "dev-policy v2.1")
                && !ok(&POLICY_NAME, "")
                && !ok(&POLICY_NAME, "a/b")
        );
        for dots in ["", ".", ".."] {
            assert!(!ok(&BUCKET_NAME, dots) && !ok(&PATH_NAME, dots), "{dots:?}");
        }
        assert!(ok(&BUCKET_NAME, "web-assets.v2_") && !ok(&BUCKET_NAME, "a/b"));
        assert!(ok(&PATH_NAME, "web-backends") && !ok(&PATH_NAME, "../x/y"));
        assert!(ok(
            &POLICY_STATEMENT,
            "Allow group Developers to read all-resources in tenancy"
        ));
        assert!(ok(
            &POLICY_STATEMENT,
            "define tenancy Acme as ocid1.tenancy.oc1..aaa"
        ));
        assert!(!ok(&POLICY_STATEMENT, "Permit everyone everything") && !ok(&POLICY_STATEMENT, ""));
        assert!(
            ok(&PEER_CIDR, "0.0.0.0/0")
                && ok(&PEER_CIDR, "10.0.0.0/16")
                && ok(&PEER_CIDR, "10.0.0.5/32")
        );
        assert!(
            !ok(&PEER_CIDR, "10.0.0.1/16")
                && !ok(&PEER_CIDR, "1.0.0.0/0")
                && !ok(&PEER_CIDR, "anywhere")
        );
    }

    #[test]
    fn security_rules_relate_options_to_their_protocol() {
        const SPEC: portal_core::tools::ToolSpec = portal_core::tools::ToolSpec {
            name: "t",
            category: "networking",
            description: "",
            risk: portal_core::tools::Risk::Danger,
            effect: portal_core::tools::Effect::Destructive,
            idempotent: false,
            params: &[field("rule", INGRESS_RULE, true, "")],
        };
        let spec = SPEC;
        let v = |rule: Value| spec.validate(&serde_json::json!({ "rule": rule }));
        let ssh = v(serde_json::json!({"protocol": "6", "source": "10.0.0.0/8", "tcpOptions": {"destinationPortRange": {"min": 22, "max": 22}}})).unwrap();
        assert_eq!(ssh["rule"]["isStateless"], false);
        assert_eq!(
            v(serde_json::json!({"protocol": "17", "source": "10.0.0.0/8", "tcpOptions": {}}))
                .unwrap_err(),
            "args/rule: tcpOptions needs protocol \"6\" (TCP)"
        );
        assert_eq!(
            v(serde_json::json!({"protocol": "6", "source": "10.0.0.0/8", "tcpOptions": {"destinationPortRange": {"min": 443, "max": 80}}})).unwrap_err(),
            "args/rule/tcpOptions/destinationPortRange: min (443) must not be greater than max (80)"
        );
        assert_eq!(
            v(serde_json::json!({"protocol": "6", "source": "10.0.0.0/8", "tcpOptions": {"destinationPortRange": {"min": 0, "max": 80}}})).unwrap_err(),
            "args/rule/tcpOptions/destinationPortRange/min: must be an integer from 1 to 65535"
        );
        assert!(v(serde_json::json!({"protocol": "1", "source": "0.0.0.0/0", "icmpOptions": {"type": 3, "code": 4}})).is_ok());
        assert!(
            v(serde_json::json!({"protocol": "tcp", "source": "0.0.0.0/0"}))
                .unwrap_err()
                .starts_with("args/rule/protocol")
        );
    }
}
