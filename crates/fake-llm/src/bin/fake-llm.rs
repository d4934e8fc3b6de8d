//! A scripted OpenAI-compatible model server for journeys that drive the real
//! `portal` binary (the browser journeys): it answers with the turns of a JSON
//! script in order, then with a fixed fallback; prints its base URL and serves
//! until killed. Tests and CI only, never part of the portal binary.
//!
//! usage: `fake-llm SCRIPT.json`, where the script is an array of
//! `{"text": ["chunk", …], "toolCalls": [{"name": "listInstances", "args": "{}"}], "delayMs": 40}`
//! (every field optional).

use std::time::Duration;

use portal_fake_llm::{FakeLlm, Protocol, Turn};
use serde_json::Value;

fn turn(v: &Value) -> Turn {
    let texts = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut t = Turn::text(texts(&v["text"]));
    for c in v["toolCalls"].as_array().into_iter().flatten() {
        let name = c["name"].as_str().unwrap_or("unknown");
        t = t.and_tool_call(name, [c["args"].as_str().unwrap_or("{}").to_string()]);
    }
    if let Some(ms) = v["delayMs"].as_u64() {
        t = t.delay(Duration::from_millis(ms));
    }
    t
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| std::io::Error::other("usage: fake-llm SCRIPT.json"))?;
    let script: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
        .map_err(|e| std::io::Error::other(format!("{path}: {e}")))?;
    let fake = FakeLlm::start(Protocol::OpenAi).await?;
    for t in script.as_array().into_iter().flatten() {
        fake.push(turn(t));
    }
    fake.set_fallback(Some(Turn::text(["That is all I was scripted to say."])));
    println!("{}", fake.base_url());
    std::future::pending::<()>().await;
    Ok(())
}
