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

/// The AI SDK's finish reasons: nothing else validates in its clients.
pub const SDK_FINISH_REASONS: [&str; 6] = [
    "stop",
    "length",
    "content-filter",
    "tool-calls",
    "error",
    "other",
];

/// The parts of one type, in order.
pub fn of_type<'a>(evs: &'a [Ev], t: &str) -> Vec<&'a Value> {
    evs.iter()
        .filter(|e| e.data["type"] == t)
        .map(|e| &e.data)
        .collect()
}

/// The streamed text, concatenated.
pub fn text_of(evs: &[Ev]) -> String {
    of_type(evs, "text-delta")
        .iter()
        .map(|d| d["delta"].as_str().unwrap_or_default())
        .collect()
}

/// The last finish part; every finish carries one of the SDK's reasons.
pub fn finish(evs: &[Ev]) -> &Value {
    let all = of_type(evs, "finish");
    for f in &all {
        let reason = f["finishReason"].as_str().unwrap_or_default();
        assert!(SDK_FINISH_REASONS.contains(&reason), "{f}");
    }
    all.last().copied().expect("a finish part")
}

/// Reads a live stream until `needle` shows up; returns what was read.
pub async fn read_until(res: &mut reqwest::Response, needle: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout(Duration::from_secs(30), res.chunk())
            .await
            .expect("more of the stream")
            .expect("body")
            .unwrap_or_else(|| panic!("stream ended before {needle}: {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}
