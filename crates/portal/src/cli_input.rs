//! Where `portal tools run` reads its secrets from. The command line is visible
//! to every user of the machine (`/proc/*/cmdline`, `ps`) and kept in shell
//! history, so the API key and secret tool arguments are refused there and read
//! from the environment, a file or standard input instead (L12).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Why the input of `tools run` was refused.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The key was given with `--api-key`.
    #[error(
        "--api-key would show the key to every user of this machine and keep it in shell history; \\
         set PORTAL_API_KEY or use --api-key-file PATH (or --api-key-file - for standard input)"
    )]
    KeyOnCommandLine,
    /// No key at all.
    #[error("no API key: set PORTAL_API_KEY or use --api-key-file PATH")]
    NoKey,
    /// Both inputs asked for standard input.
    #[error("--args-file - and --api-key-file - cannot both read standard input")]
    StdinTwice,
    /// A secret argument given with `--args`.
    #[error(
        "{tool}'s {field} is secret: pass the arguments with --args-file PATH (or --args-file - for \\
         standard input), not --args"
    )]
    SecretOnCommandLine {
        /// The tool.
        tool: String,
        /// The secret argument.
        field: &'static str,
    },
    /// The arguments are not one JSON object.
    #[error("{0}: must be a JSON object")]
    NotAnObject(&'static str),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file (`-` for standard input).
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

fn read(path: &Path) -> Result<String, InputError> {
    let err = |source| InputError::Read {
        path: path.display().to_string(),
        source,
    };
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(err)?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).map_err(err)
    }
}

/// The arguments and the API key of `tools run`, from where they may come.
pub fn tool_input(
    tool: &str,
    args: Option<String>,
    args_file: Option<PathBuf>,
    api_key_file: Option<PathBuf>,
    api_key: Option<String>,
) -> Result<(Value, String), InputError> {
    if api_key.is_some() {
        return Err(InputError::KeyOnCommandLine);
    }
    let stdin = Path::new("-");
    if args_file.as_deref() == Some(stdin) && api_key_file.as_deref() == Some(stdin) {
        return Err(InputError::StdinTwice);
    }
    let key = match api_key_file {
        Some(path) => read(&path)?.trim().to_string(),
        None => std::env::var("PORTAL_API_KEY").unwrap_or_default(),
    };
    if key.trim().is_empty() {
        return Err(InputError::NoKey);
    }
    let (text, from) = match (args, args_file) {
        (_, Some(path)) => (read(&path)?, "--args-file"),
        (Some(inline), None) => (inline, "--args"),
        (None, None) => ("{}".to_string(), "--args"),
    };
    let value: Value = serde_json::from_str(&text).map_err(|_| InputError::NotAnObject(from))?;
    let Some(obj) = value.as_object() else {
        return Err(InputError::NotAnObject(from));
    };
    if from == "--args" {
        if let Some(spec) = portal_tools::TOOLS.iter().find(|t| t.name == tool) {
            if let Some(p) = spec
                .params
                .iter()
                .find(|p| p.secret && obj.contains_key(p.name))
            {
                return Err(InputError::SecretOnCommandLine {
                    tool: tool.to_string(),
                    field: p.name,
                });
            }
            // Secrets nested in lists of objects, too.
            if spec.redact(obj) != value {
                return Err(InputError::SecretOnCommandLine {
                    tool: tool.to_string(),
                    field: "a nested argument",
                });
            }
        }
    }
    Ok((value, key.trim().to_string()))
}
