//! The names: one per field, `config check` output, and what the README says.

use super::{env, toml_file};
use crate::config::*;

#[test]
fn describe_redacts_secrets() {
    let key = "s".repeat(40);
    let s = Settings::load(
        None,
        env(&[
            ("PORTAL_SECRET_KEY", &key),
            ("PORTAL_DATABASE_URL", "postgres://u:pw@db:5432/portal"),
        ]),
    )
    .unwrap();
    let text = format!("{:?}", s.describe());
    assert!(!text.contains(&key));
    assert!(!text.contains("pw@"));
    assert!(text.contains("postgres://u:[REDACTED]@db:5432/portal"));
    assert!(!format!("{s:?}").contains(&key));
}

#[test]
fn config_check_redacts_every_secret() {
    let key = "k".repeat(40);
    let token = "t".repeat(40);
    let s = Settings::load(
        None,
        env(&[
            ("PORTAL_SECRET_KEY", &key),
            ("PORTAL_METRICS_TOKEN", &token),
            ("PORTAL_AI_PROVIDER", "anthropic"),
            ("PORTAL_AI_MODEL", "m"),
            ("PORTAL_AI_API_KEY", "sk-ant-secret"),
            ("PORTAL_DATABASE_URL", "postgres://u:pw@db/portal"),
        ]),
    )
    .unwrap();
    let lines = s.describe();
    for secret in [
        "PORTAL_SECRET_KEY",
        "PORTAL_METRICS_TOKEN",
        "PORTAL_AI_API_KEY",
    ] {
        assert!(
            lines.contains(&(secret, "[REDACTED]".to_string())),
            "{secret}: {lines:?}"
        );
    }
    assert!(lines.contains(&(
        "PORTAL_DATABASE_URL",
        "postgres://u:[REDACTED]@db/portal".into()
    )));
    let text = format!("{lines:?}");
    for leaked in [key.as_str(), token.as_str(), "sk-ant-secret", "pw@"] {
        assert!(!text.contains(leaked), "{text}");
    }
    let unset = Settings::default().describe();
    assert!(unset.contains(&("PORTAL_SECRET_KEY", "(generated in the data dir)".into())));
    assert!(unset.contains(&("PORTAL_METRICS_TOKEN", "(none)".into())));
}

/// The tables of names and the structs describe the same settings, once each.
#[test]
fn every_field_has_one_name_and_every_name_a_field() {
    fn leaves(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    leaves(&p, v, out);
                }
            }
            _ => out.push(prefix.to_string()),
        }
    }
    let mut fields = Vec::new();
    leaves(
        "",
        &serde_json::to_value(Settings::default()).unwrap(),
        &mut fields,
    );
    let mut named: Vec<String> = names::all().map(|(p, _)| p).collect();
    fields.sort();
    named.sort();
    assert_eq!(fields, named);
    let mut envs: Vec<&str> = names::all().map(|(_, n)| n.env).collect();
    envs.sort();
    envs.dedup();
    assert_eq!(envs.len(), named.len(), "a variable is used twice");
    assert_eq!(Settings::default().describe().len(), named.len());
}

/// Every variable in the README's configuration table is a setting, and back.
#[test]
fn the_readme_lists_every_variable() {
    let readme = include_str!("../../../../../README.md");
    for (_, name) in names::all() {
        assert!(
            readme.contains(&format!("| `{}` |", name.env)),
            "{}",
            name.env
        );
    }
}

/// The README's example file loads and means what it says.
#[test]
fn the_readme_example_file_loads() {
    let readme = include_str!("../../../../../README.md");
    let start = readme.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let text = &readme[start..start + readme[start..].find("```").unwrap()];
    let (_dir, path) = toml_file(text);
    let s = Settings::load(Some(&path), env(&[])).unwrap();
    assert_eq!(s.http.bind.to_string(), "0.0.0.0:8080");
    assert_eq!(s.http.cors_origins, ["https://portal.example"]);
    assert_eq!(s.limits.rate_limit_api, 600);
    assert!(matches!(s.database.url, DatabaseKind::Postgres(_)));
    assert_eq!(s.database.pool_max, 32);
    assert_eq!(s.ai.model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(s.ai.chat.max_rounds, 8);
}

/// Each nested key is the variable without `PORTAL_` and its table's prefix,
/// as the README says, but for the two named exceptions.
#[test]
fn nested_keys_follow_the_readme_rule() {
    for (path, name) in names::all() {
        let (table, field) = path.rsplit_once('.').unwrap_or(("", &path));
        let flat = name.flat_key();
        let prefixes: &[&str] = match table {
            "database" => &["db_", "database_"],
            "jobs" => &["jobs_"],
            "log" => &["log_"],
            "ai" => &["ai_"],
            "ai.chat" => &["chat_"],
            "outbound" => &["outbound_"],
            "webhooks" => &["webhooks_"],
            "search" => &["embedder_"],
            "mcp" => &["mcp_"],
            _ => &[],
        };
        let derived = prefixes
            .iter()
            .find_map(|p| flat.strip_prefix(p))
            .unwrap_or(&flat);
        match path.as_str() {
            "cloud.mode" | "log.filter" => assert_ne!(derived, field),
            _ => assert_eq!(derived, field, "{path} vs {}", name.env),
        }
    }
}
