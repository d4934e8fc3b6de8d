//! Reading the chat's AI SDK UI message streams in tests.

use std::time::Duration;

use serde_json::Value;

/// One server-sent event: its id and its data (JSON, or `[DONE]`).
#[derive(Debug)]
pub struct Ev {
    /// The event id.
    pub id: Option<i64>,
    /// The JSON data (`Null` for `[DONE]`).
    pub data: Value,
    /// Whether this is the closing `[DONE]`.
    pub done: bool,
}

/// Parses a whole SSE body (panics on data that is not JSON: a test failure).
pub fn parse_sse(text: &str) -> Vec<Ev> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut id = None;
        let mut data = String::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("id:") {
                id = v.trim().parse().ok();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            }
        }
        if data.is_empty() {
            continue;
        }
        let done = data == "[DONE]";
        out.push(Ev {
            id,
            data: if done {
                Value::Null
            } else {
                serde_json::from_str(&data).unwrap_or_else(|e| panic!("{e}: {data}"))
            },
            done,
        });
    }
    out
}

/// Reads a chat stream to its end (within a minute), checking it is one.
pub async fn read_sse(res: reqwest::Response) -> Vec<Ev> {
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["x-vercel-ai-ui-message-stream"],
        "v1",
        "AI SDK UI message stream"
    );
    let text = tokio::time::timeout(Duration::from_secs(60), res.text())
        .await
        .expect("stream ends")
        .expect("body");
    parse_sse(&text)
}
