//! Search across the caller's conversations (issue 16, full-text half):
//! `GET /api/v1/search` through the real router over HTTP, on the configured
//! database (SQLite, or PostgreSQL with `PORTAL_TEST_DATABASE_URL`). Messages
//! are stored by real chat turns (no model configured: the user's message
//! and the portal's answer saying so).

use std::collections::BTreeSet;

use portal_testkit::sse::read_sse;
use portal_testkit::{Client, TestApp};
use serde_json::{json, Value};

/// Says `text` in a new session (or `session`); the session's id.
async fn say(c: &Client, session: Option<&str>, text: &str) -> String {
    let mut body = json!({ "message": text });
    if let Some(s) = session {
        body["sessionId"] = json!(s);
    }
    let evs = read_sse(c.post("/api/chat", body).await).await;
    evs[0].data["messageMetadata"]["sessionId"]
        .as_str()
        .expect("the first event names the session")
        .to_string()
}

async fn search(c: &Client, query: &str) -> (u16, Value) {
    let res = c.get(&format!("/api/v1/search?{query}")).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn results(body: &Value) -> &Vec<Value> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("results in {body}"))
}

fn marks(r: &Value) -> Vec<String> {
    r["snippet"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["mark"] == true)
        .map(|p| p["text"].as_str().unwrap_or_default().to_lowercase())
        .collect()
}

async fn app() -> TestApp {
    TestApp::builder()
        .env("PORTAL_CLOUD", "emulator")
        .spawn()
        .await
}

#[tokio::test]
async fn search_finds_the_callers_messages_with_snippets_and_filters() {
    let app = app().await;
    let admin = app.admin().await;
    let s1 = say(
        &admin,
        None,
        "The disk on <b>prod-db</b> is full, disk at 99%",
    )
    .await;
    let s2 = say(
        &admin,
        None,
        "Please restart the web tier after the disk swap",
    )
    .await;

    // Searchable as soon as the turn is stored: indexed in its transaction.
    let (status, body) = search(&admin, "q=disk").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mode"], "fulltext");
    let hits = results(&body);
    assert_eq!(hits.len(), 2, "{body}");
    // Two mentions in a shorter message rank first.
    assert_eq!(hits[0]["sessionId"], s1.as_str(), "{body}");
    assert_eq!(hits[1]["sessionId"], s2.as_str(), "{body}");
    assert!(hits[0]["score"].as_f64() >= hits[1]["score"].as_f64());
    assert_eq!(hits[0]["role"], "user");
    assert_eq!(marks(&hits[0]), vec!["disk", "disk"]);
    // Stored markup is text in the snippet, never markup.
    let text: String = hits[0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap_or_default())
        .collect();
    assert!(text.contains("<b>prod-db</b>"), "{text}");
    assert!(hits[0]["createdAt"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    // The message id is the stored message's.
    let msgs: Value = admin
        .get(&format!("/api/sessions/{s1}/messages"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        msgs.to_string()
            .contains(hits[0]["messageId"].as_str().unwrap()),
        "{msgs}"
    );

    // Filters: who said it, which session, when, how many.
    let (_, body) = search(&admin, "q=model+configured&type=assistant").await;
    assert_eq!(
        results(&body).len(),
        2,
        "both answers say no model is configured: {body}"
    );
    assert!(results(&body).iter().all(|r| r["role"] == "assistant"));
    let (_, body) = search(&admin, "q=model+configured&type=user").await;
    assert!(results(&body).is_empty(), "{body}");
    let (_, body) = search(&admin, &format!("q=disk&sessionId={s2}")).await;
    assert_eq!(results(&body).len(), 1);
    assert_eq!(results(&body)[0]["sessionId"], s2.as_str());
    let (_, body) = search(&admin, "q=disk&limit=1").await;
    assert_eq!(results(&body).len(), 1);
    let (_, body) = search(&admin, "q=disk&to=2000-01-01T00:00:00Z").await;
    assert!(results(&body).is_empty(), "{body}");
    let (_, body) = search(&admin, "q=disk&from=2000-01-01T00:00:00Z").await;
    assert_eq!(results(&body).len(), 2);
    // A range that ends before (or where) it starts matches nothing.
    for range in [
        "from=2000-01-02T00:00:00Z&to=2000-01-01T00:00:00Z",
        "from=2000-01-01T00:00:00Z&to=2000-01-01T00:00:00Z",
    ] {
        let (status, body) = search(&admin, &format!("q=disk&{range}")).await;
        assert_eq!(status, 200, "{range}: {body}");
        assert!(results(&body).is_empty(), "{range}: {body}");
    }

    // Bad parameters: 400 naming the parameter.
    for (query, field) in [
        ("", "q"),
        ("q=%22*%22", "q"),
        ("q=disk&type=summary", "type"),
        ("q=disk&limit=0", "limit"),
        ("q=disk&limit=ten", "limit"),
        ("q=disk&from=yesterday", "from"),
        ("q=disk&sessionId=", "sessionId"),
        ("q=disk&owner=me", "owner"),
    ] {
        let (status, body) = search(&admin, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["code"], "VALIDATION_ERROR", "{query}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(field), "{query}: {error}");
    }

    // Least privilege: a key without sessions:read may not search.
    let (key, _) = admin.create_key("no-sessions", &["tools:read"]).await;
    let (status, _) = search(&app.with_key(&key), "q=disk").await;
    assert_eq!(status, 403);
    let (key, _) = admin.create_key("reader", &["sessions:read"]).await;
    let (status, body) = search(&app.with_key(&key), "q=disk").await;
    assert_eq!(status, 200, "{body}");

    // Deleting a session deletes its messages from the index.
    assert_eq!(
        admin.delete(&format!("/api/sessions/{s1}")).await.status(),
        204
    );
    let (_, body) = search(&admin, "q=disk").await;
    assert_eq!(results(&body).len(), 1, "{body}");
    assert_eq!(results(&body)[0]["sessionId"], s2.as_str());
}

/// A small deterministic generator (xorshift), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "disk", "disks", "vcn", "subnet", "quota", "backup", "bucket", "restart", "rest", "alarm",
    "alarms", "policy", "polish", "memory",
];

/// Users of three organisations (two in the first) say random things; random
/// queries by each find exactly their own matching messages, never another
/// user's or organisation's.
#[tokio::test]
async fn random_queries_never_cross_users_or_organisations() {
    let app = app().await;
    let admin = app.admin().await;
    let bob = app.member(&admin, "bob@acme.test", "operator").await;
    for (name, slug) in [("Beta", "beta"), ("Gamma", "gamma")] {
        let res = admin
            .post("/api/admin/orgs", json!({"name": name, "slug": slug}))
            .await;
        assert_eq!(res.status(), 201);
    }
    admin.set_active("beta").await;
    let beta = app.member(&admin, "boss@beta.test", "operator").await;
    admin.set_active("gamma").await;
    let gamma = app.member(&admin, "gus@gamma.test", "operator").await;

    let mut rng = Rng(0x0dd_ba11_5eed);
    let users = [&admin, &bob, &beta, &gamma];
    let mut said: Vec<Vec<String>> = vec![Vec::new(); users.len()];
    let mut sessions: Vec<BTreeSet<String>> = vec![BTreeSet::new(); users.len()];
    for (u, c) in users.iter().enumerate() {
        let mut session = None;
        for i in 0..4 {
            let words: Vec<&str> = (0..1 + rng.next(4))
                .map(|_| WORDS[rng.next(WORDS.len())])
                .collect();
            let text = words.join(" ");
            let s = say(c, session.as_deref().filter(|_| i % 2 == 1), &text).await;
            sessions[u].insert(s.clone());
            session = Some(s);
            said[u].push(text);
        }
    }
    for _ in 0..120 {
        let u = rng.next(users.len());
        let terms: Vec<String> = (0..1 + rng.next(2))
            .map(|_| {
                let w = WORDS[rng.next(WORDS.len())];
                w[..1 + rng.next(w.len())].to_string()
            })
            .collect();
        let q = terms.join("+");
        let (status, body) = search(users[u], &format!("q={q}&type=user&limit=100")).await;
        assert_eq!(status, 200, "{body}");
        let expected = said[u]
            .iter()
            .filter(|t| {
                terms
                    .iter()
                    .all(|q| t.split(' ').any(|w| w.starts_with(q.as_str())))
            })
            .count();
        let got = results(&body);
        assert_eq!(got.len(), expected, "user {u} searching {q}: {body}");
        for r in got {
            let s = r["sessionId"].as_str().unwrap_or_default();
            assert!(sessions[u].contains(s), "user {u} got {r}");
        }
    }
}

#[tokio::test]
async fn the_search_route_is_in_the_openapi_document() {
    let app = app().await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let op = &doc["paths"]["/api/v1/search"]["get"];
    assert_eq!(op["operationId"], "searchMessages", "{op}");
    let params: BTreeSet<&str> = op["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("parameters in {op}"))
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        params,
        BTreeSet::from(["q", "type", "sessionId", "from", "to", "limit"])
    );
    for status in ["200", "400", "401", "403"] {
        assert!(op["responses"][status].is_object(), "{status} in {op}");
    }
    let result = &doc["components"]["schemas"]["SearchResult"]["properties"];
    for field in [
        "sessionId",
        "messageId",
        "role",
        "snippet",
        "score",
        "createdAt",
    ] {
        assert!(result[field].is_object(), "{field} in {result}");
    }
}

#[tokio::test]
async fn the_chat_sidebar_finds_messages_across_chats() {
    let app = app().await;
    let admin = app.admin().await;
    let s1 = say(&admin, None, "why is the <i>quota</i> exceeded").await;
    let _s2 = say(&admin, None, "nothing to see here").await;
    let (_, body) = search(&admin, "q=quota").await;
    let id = results(&body)[0]["messageId"].as_str().unwrap().to_string();

    let (status, html) = admin.page(&format!("/chat/{s1}?q=QUOTA")).await;
    assert_eq!(status, 200);
    // Linked to the message in its conversation, matches marked, stored text escaped.
    assert!(
        html.contains(&format!("href=\"/chat/{s1}#message-{id}\"")),
        "{html}"
    );
    assert!(html.contains(&format!("id=\"message-{id}\"")), "{html}");
    assert!(html.contains("<mark>quota</mark>"), "{html}");
    assert!(html.contains("&lt;i&gt;"), "{html}");
    assert!(!html.contains("<i>quota"), "{html}");
    // Nothing found, or a search of symbols only: no message list, no error.
    for q in ["zzzz", "%2A%22"] {
        let (status, html) = admin.page(&format!("/chat?q={q}")).await;
        assert_eq!(status, 200);
        assert!(!html.contains("message-hits"), "{q}: {html}");
    }
}
