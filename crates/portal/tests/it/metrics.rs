//! Every metric family exists from start-up: zero where nothing happened yet.

use portal_testkit::TestApp;

/// The metric names the README documents (backticked `snake_case` names with a
/// metric suffix), so the docs and the exposition cannot drift apart.
fn readme_metric_names() -> Vec<String> {
    let readme = include_str!("../../../../README.md");
    let mut names: Vec<String> = readme
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            !s.is_empty()
                && s.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && [
                    "_total", "_seconds", "_rounds", "_pending", "_open", "_up", "_info",
                ]
                .iter()
                .any(|suffix| s.ends_with(suffix))
        })
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[tokio::test]
async fn every_family_is_present_before_anything_happened() {
    let app = TestApp::spawn().await;
    // The very first request of the process is the scrape.
    let res = app.get("/api/metrics").await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();

    let names = readme_metric_names();
    assert!(
        names.len() >= 10,
        "the README lists the metric families: {names:?}"
    );
    for name in &names {
        assert!(
            text.contains(&format!("# TYPE {name} ")),
            "{name} is missing from a fresh scrape:\n{text}"
        );
    }

    // Zero samples where the label values are known up front.
    for line in [
        r#"chat_tokens_total{direction="in",model="none",provider="none"} 0"#,
        r#"chat_tokens_total{direction="out",model="none",provider="none"} 0"#,
        r#"chat_time_to_first_token_seconds_count{model="none",provider="none"} 0"#,
        "chat_tool_rounds_count 0",
        r#"chat_guardrail_hits_total{category="prompt_injection"} 0"#,
        r#"rate_limited_total{class="api"} 0"#,
        r#"requests_shed_total{reason="overload"} 0"#,
        r#"requests_shed_total{reason="streams"} 0"#,
        "approvals_pending 0",
    ] {
        assert!(text.contains(line), "{line} missing:\n{text}");
    }
    // Open-ended label sets (tools, routes) are announced without inventing series.
    assert!(text.contains("# TYPE tool_executions_total counter"));
    assert!(text.contains("# TYPE tool_duration_seconds histogram"));
    assert!(!text.contains("tool_executions_total{"), "{text}");
}
