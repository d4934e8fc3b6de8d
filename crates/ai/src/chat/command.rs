//! `/tool NAME {json}` messages: a direct tool call typed by the user. Its
//! arguments may hold secrets (a script, a password), so what is stored,
//! used as the title and fed back to the model later is the command with its
//! arguments redacted by the tool's own spec — never the text as typed.

use portal_core::tools::ToolSpec;
use serde_json::{Map, Value};

/// The prefix of a direct tool call.
pub(crate) const PREFIX: &str = "/tool";

/// The `(name, arguments)` of a `/tool` message, `None` for any other message.
/// The arguments are the rest of the text, trimmed (possibly empty).
pub(crate) fn parse(message: &str) -> Option<(&str, &str)> {
    let command = message.trim_start().strip_prefix(PREFIX)?.trim();
    Some(match command.split_once(char::is_whitespace) {
        Some((n, r)) => (n.trim(), r.trim()),
        None => (command, ""),
    })
}

/// The message as it may be kept: a `/tool` command with its arguments
/// redacted (secret fields replaced at any depth by the tool's spec), or with
/// its arguments withheld when they cannot be redacted (unknown tool, not a
/// JSON object). Any other message is returned as it is.
pub(crate) fn redacted(message: &str, specs: &[ToolSpec]) -> String {
    let Some((name, args)) = parse(message) else {
        return message.to_string();
    };
    let head = if name.is_empty() {
        PREFIX.to_string()
    } else {
        format!("{PREFIX} {name}")
    };
    if args.is_empty() {
        return head;
    }
    let spec = specs.iter().find(|s| s.name == name);
    match (spec, serde_json::from_str::<Map<String, Value>>(args)) {
        (Some(spec), Ok(map)) => format!("{head} {}", spec.redact(&map)),
        (None, _) => format!("{head} [arguments not shown: unknown tool]"),
        (Some(_), Err(_)) => format!("{head} [arguments not shown: not a JSON object]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_core::tools::{Effect, Kind, Param, Risk};

    const SPEC: ToolSpec = ToolSpec {
        name: "run",
        category: "compute",
        description: "d",
        risk: Risk::Confirm,
        effect: Effect::Destructive,
        idempotent: false,
        params: &[
            Param {
                name: "instanceId",
                kind: Kind::Text { max: 100 },
                required: true,
                description: "",
                default: None,
                secret: false,
            },
            Param {
                name: "script",
                kind: Kind::Text { max: 100 },
                required: true,
                description: "",
                default: None,
                secret: true,
            },
        ],
    };

    #[test]
    fn secret_arguments_are_redacted_and_the_rest_kept() {
        let out = redacted(
            r#"  /tool run {"instanceId": "i-1", "script": "echo hunter2"}"#,
            &[SPEC],
        );
        assert!(!out.contains("hunter2"), "{out}");
        assert!(
            out.starts_with("/tool run {") && out.contains("i-1"),
            "{out}"
        );
    }

    #[test]
    fn arguments_that_cannot_be_redacted_are_withheld() {
        for m in [
            r#"/tool run {"script": "hunter2""#,
            r#"/tool nosuch {"script": "hunter2"}"#,
            "/tool run hunter2",
        ] {
            let out = redacted(m, &[SPEC]);
            assert!(
                !out.contains("hunter2") && out.contains("not shown"),
                "{out}"
            );
        }
        assert_eq!(redacted("hello /tool x", &[SPEC]), "hello /tool x");
        assert_eq!(redacted("/tool run", &[SPEC]), "/tool run");
    }
}
