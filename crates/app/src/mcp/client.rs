//! Speaking MCP to a remote server over Streamable HTTP with the official
//! Rust SDK's client, through the SSRF-guarded HTTP client. Each use opens
//! a session, does one thing (list the tools, call one) and closes it: no
//! connection state lives in a replica, so any replica serves any call.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use portal_core::mcp::{Credentials, RemoteTool};
use portal_core::outbound::OutboundPolicy;
use portal_core::service::tools::ToolError;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Map, Value};

/// Longest a session is given to open and list tools.
pub(super) const LIST_TIMEOUT: Duration = Duration::from_secs(15);
/// Most tools taken from one server: each becomes a catalogue entry the
/// process keeps (see `portal_core::mcp::spec`), so a server that lists
/// without end is refused rather than believed.
const MAX_TOOLS: usize = 256;
/// Longest description kept of a remote tool (the rest is cut).
const MAX_DESCRIPTION: usize = 2_000;
/// Largest argument schema accepted of a remote tool, as JSON text.
const MAX_SCHEMA: usize = 64 * 1024;

/// An error with its causes (`a: b: c`), so the admin sees why (a refused
/// address, a 401, a timeout) rather than only the SDK's outermost message.
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = tidy(&e.to_string());
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = tidy(&c.to_string());
        if !out.contains(&m) {
            out.push_str(": ");
            out.push_str(&m);
        }
        cur = c.source();
    }
    out
}

/// An error's text without the Rust type names some SDK errors print in
/// brackets (`Transport [rmcp::…<reqwest::…>]`): admins read these.
fn tidy(m: &str) -> String {
    let mut out = String::with_capacity(m.len());
    let mut rest = m;
    while let Some(open) = rest.find('[') {
        let Some(len) = rest[open..].find(']') else {
            break;
        };
        let inside = &rest[open..open + len + 1];
        out.push_str(&rest[..open]);
        if !inside.contains("::") {
            out.push_str(inside);
        }
        rest = &rest[open + len + 1..];
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The tools a server listed, judged: bounded in number and schema size,
/// descriptions cut (each becomes a catalogue entry the process keeps).
pub(super) fn listing(tools: Vec<rmcp::model::Tool>) -> Result<Vec<RemoteTool>, String> {
    if tools.len() > MAX_TOOLS {
        return Err(format!(
            "lists {} tools; at most {MAX_TOOLS} are taken from one server",
            tools.len()
        ));
    }
    if let Some(t) = tools
        .iter()
        .find(|t| Value::Object((*t.input_schema).clone()).to_string().len() > MAX_SCHEMA)
    {
        return Err(format!(
            "tool {:?} has an argument schema over {} KiB",
            t.name.chars().take(64).collect::<String>(),
            MAX_SCHEMA / 1024
        ));
    }
    Ok(tools
        .into_iter()
        .map(|t| RemoteTool {
            name: t.name.to_string(),
            description: t
                .description
                .map(|d| d.chars().take(MAX_DESCRIPTION).collect())
                .unwrap_or_default(),
            input_schema: Value::Object((*t.input_schema).clone()),
            read_only_hint: t
                .annotations
                .and_then(|a| a.read_only_hint)
                .unwrap_or(false),
        })
        .collect())
}

/// The guarded HTTP client and the policy it applies.
#[derive(Clone)]
pub struct McpClient {
    http: reqwest::Client,
    policy: OutboundPolicy,
}

impl McpClient {
    /// A client over `guarded`.
    pub fn new(guarded: &portal_webhooks::GuardedClient) -> Self {
        Self {
            http: guarded.http().clone(),
            policy: guarded.policy().clone(),
        }
    }

    async fn open(
        &self,
        url: &str,
        creds: &Credentials,
    ) -> Result<RunningService<RoleClient, ()>, String> {
        // The resolver judges host names at connect time; an address written
        // in the URL is judged here.
        self.policy
            .check_url(url)
            .map_err(|e| format!("the URL is refused: {e}"))?;
        let mut headers = HashMap::new();
        for (k, v) in &creds.headers {
            let name = HeaderName::from_str(k).map_err(|_| format!("bad header name {k:?}"))?;
            let value =
                HeaderValue::from_str(v).map_err(|_| format!("bad value for header {k}"))?;
            headers.insert(name, value);
        }
        let mut config =
            StreamableHttpClientTransportConfig::with_uri(url.to_string()).custom_headers(headers);
        config.allow_stateless = true;
        if let Some(b) = &creds.bearer {
            config = config.auth_header(b.clone());
        }
        let transport = StreamableHttpClientTransport::with_client(self.http.clone(), config);
        ().serve(transport)
            .await
            .map_err(|e| format!("could not connect: {}", chain(&e)))
    }

    /// The server's tools (every page).
    pub async fn list_tools(
        &self,
        url: &str,
        creds: &Credentials,
    ) -> Result<Vec<RemoteTool>, String> {
        let work = async {
            let session = self.open(url, creds).await?;
            let listed = session.list_all_tools().await;
            let _ = session.cancel().await;
            let tools = listed.map_err(|e| format!("tools/list failed: {}", chain(&e)))?;
            listing(tools)
        };
        match tokio::time::timeout(LIST_TIMEOUT, work).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} s", LIST_TIMEOUT.as_secs())),
        }
    }

    /// Calls one tool (the gateway bounds the time); a result the server
    /// marks as an error is the tool's failure, its text the message.
    pub async fn call(
        &self,
        url: &str,
        creds: &Credentials,
        tool: &str,
        args: &Map<String, Value>,
    ) -> Result<Value, ToolError> {
        let session = self.open(url, creds).await.map_err(ToolError::Cloud)?;
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(args.clone());
        let outcome = session.call_tool(params).await;
        let _ = session.cancel().await;
        let result =
            outcome.map_err(|e| ToolError::Cloud(format!("tools/call failed: {}", chain(&e))))?;
        outcome_of(tool, result)
    }
}

/// A tool's result as the gateway records it; a result the server marks as
/// an error is the tool's failure, its text the message.
pub(super) fn outcome_of(tool: &str, result: CallToolResult) -> Result<Value, ToolError> {
    let text: Vec<String> = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect();
    if result.is_error == Some(true) {
        let message = if text.is_empty() {
            format!("{tool} failed")
        } else {
            text.join("\n")
        };
        return Err(ToolError::Cloud(message));
    }
    let mut out = Map::new();
    out.insert("content".into(), Value::from(text));
    if let Some(s) = result.structured_content {
        out.insert("structuredContent".into(), s);
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_text_loses_type_names_and_keeps_the_rest() {
        assert_eq!(
            super::tidy("Send message error Transport [rmcp::a::B<reqwest::C>] error: x [1]"),
            "Send message error Transport error: x [1]"
        );
    }
}
