//! The storage contract for full-text search over chat messages, checked
//! identically on every backend (harness: `support/contract.rs`).

use crate::support;

use portal_core::ids::{OrgId, SessionId};
use std::collections::{BTreeMap, BTreeSet};

use portal_core::search::{terms, MessageType, SearchHit, SearchQuery};
#[allow(unused_imports)]
use support::contract::*;

contract! {
    store: [
        check_search_ranks_and_highlights,
        check_search_filters,
        check_search_stays_with_its_owner,
    ],
    db: [
        check_search_forgets_deleted_sessions,
    ],
}

fn query(q: &str) -> SearchQuery {
    SearchQuery {
        terms: terms(q),
        kind: None,
        session_id: None,
        from: None,
        to: None,
        limit: 20,
    }
}

fn ids(hits: &[SearchHit]) -> Vec<&str> {
    hits.iter().map(|h| h.message_id.as_str()).collect()
}

fn text(h: &SearchHit) -> String {
    h.snippet.iter().map(|p| p.text.as_str()).collect()
}

fn marks(h: &SearchHit) -> Vec<String> {
    h.snippet
        .iter()
        .filter(|p| p.mark)
        .map(|p| p.text.to_lowercase())
        .collect()
}

/// Alice's session `id` in `org` holding `messages` (id, role, text), said at 100, 200, ….
async fn chat_with(s: &dyn Store, org: &str, who: &str, id: &str, messages: &[(&str, &str, &str)]) {
    s.create_chat_session(&chat_session(id, org, who, 10))
        .await
        .unwrap();
    let ms: Vec<ChatMessage> = messages
        .iter()
        .zip(1..)
        .map(|((mid, role, content), i)| msg(mid, role, content, i * 100))
        .collect();
    s.append_chat_messages(&OrgId::from(org), &SessionId::from(id), &ms, 5)
        .await
        .unwrap();
}

async fn check_search_ranks_and_highlights(s: &dyn Store) {
    let o = mk_org(s, "o1").await;
    chat_with(
        s,
        &o.id,
        ALICE,
        "c1",
        &[
            (
                "m1",
                "user",
                "The disk on prod-db is full: disk usage at 99%",
            ),
            (
                "m2",
                "assistant",
                "I checked the network, the compute shapes, the load balancer, the \
                 object storage buckets, the vault, the logging settings and one disk",
            ),
            ("m3", "tool", "<script>alert(1)</script> the Disk & more"),
            ("m4", "summary", "disk disk disk disk"),
            ("m5", "user", "Start the deployment of the new release"),
        ],
    )
    .await;

    let hits = s
        .search_messages(&o.id, ALICE, &query("disk"))
        .await
        .unwrap();
    // Summaries are not indexed; two mentions in a short message beat one in a long one.
    assert_eq!(ids(&hits).len(), 3, "{hits:?}");
    let pos = |id: &str| ids(&hits).iter().position(|h| *h == id).unwrap();
    assert!(pos("m1") < pos("m2"), "{hits:?}");
    assert!(
        hits.windows(2).all(|w| w[0].score >= w[1].score),
        "{hits:?}"
    );
    let m1 = &hits[pos("m1")];
    assert_eq!(
        (m1.session_id.as_str(), m1.role.as_str(), m1.created_at),
        ("c1", "user", 100)
    );
    assert_eq!(marks(m1), vec!["disk", "disk"], "{m1:?}");
    assert!(text(m1).contains("is full"), "{m1:?}");
    // Stored markup comes back as plain text parts, the match apart.
    let m3 = &hits[pos("m3")];
    assert!(text(m3).contains("<script>alert(1)</script>"), "{m3:?}");
    assert_eq!(marks(m3), vec!["disk"]);

    // Case does not matter; every word must match; words match as prefixes.
    assert_eq!(
        ids(&s
            .search_messages(&o.id, ALICE, &query("DISK"))
            .await
            .unwrap()),
        ids(&hits)
    );
    let both = s
        .search_messages(&o.id, ALICE, &query("disk full"))
        .await
        .unwrap();
    assert_eq!(ids(&both), vec!["m1"]);
    let prefix = s
        .search_messages(&o.id, ALICE, &query("deploy"))
        .await
        .unwrap();
    assert_eq!(ids(&prefix), vec!["m5"]);
    assert_eq!(marks(&prefix[0]), vec!["deployment"]);
    // Query syntax is just words: nothing breaks, nothing widens.
    for q in [
        r#"disk" OR "start"#,
        "disk*",
        "NEAR(disk start)",
        "disk | start",
        "disk:* & !x",
    ] {
        let got = s.search_messages(&o.id, ALICE, &query(q)).await.unwrap();
        assert!(got.iter().all(|h| h.message_id != "m5"), "{q}: {got:?}");
    }
    assert!(s
        .search_messages(&o.id, ALICE, &query("nothinglikethis"))
        .await
        .unwrap()
        .is_empty());
}

async fn check_search_filters(s: &dyn Store) {
    let o = mk_org(s, "o1").await;
    chat_with(
        s,
        &o.id,
        ALICE,
        "c1",
        &[
            ("a1", "user", "restart the vm"),
            ("a2", "assistant", "the vm restarted"),
        ],
    )
    .await;
    chat_with(
        s,
        &o.id,
        ALICE,
        "c2",
        &[("b1", "user", "vm again"), ("b2", "tool", "vm ok")],
    )
    .await;
    let org = o.id.as_str();
    let all = |q: SearchQuery| async move {
        let mut got: Vec<String> = s
            .search_messages(&OrgId::from(org), ALICE, &q)
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.message_id)
            .collect();
        got.sort();
        got
    };
    assert_eq!(all(query("vm")).await, ["a1", "a2", "b1", "b2"]);
    let mut q = query("vm");
    q.kind = Some(MessageType::User);
    assert_eq!(all(q.clone()).await, ["a1", "b1"]);
    q.kind = Some(MessageType::Tool);
    assert_eq!(all(q).await, ["b2"]);
    let mut q = query("vm");
    q.session_id = Some("c2".into());
    assert_eq!(all(q.clone()).await, ["b1", "b2"]);
    q.session_id = Some("nope".into());
    assert!(all(q).await.is_empty());
    // From inclusive, until exclusive (messages at 100 and 200 in each session).
    let mut q = query("vm");
    q.from = Some(200);
    assert_eq!(all(q.clone()).await, ["a2", "b2"]);
    q.from = Some(100);
    q.to = Some(200);
    assert_eq!(all(q).await, ["a1", "b1"]);
    let mut q = query("vm");
    q.limit = 3;
    assert_eq!(all(q).await.len(), 3);
}

async fn check_search_forgets_deleted_sessions(db: &TestDb) {
    let s = db.store();
    let o = mk_org(s, "o1").await;
    chat_with(s, &o.id, ALICE, "c1", &[("a1", "user", "quota exceeded")]).await;
    chat_with(s, &o.id, ALICE, "c2", &[("b1", "user", "quota raised")]).await;
    assert_eq!(
        ids(&s
            .search_messages(&o.id, ALICE, &query("quota"))
            .await
            .unwrap())
        .len(),
        2
    );
    assert!(s
        .delete_chat_session(&o.id, ALICE, &SessionId::from("c1"))
        .await
        .unwrap());
    let left = s
        .search_messages(&o.id, ALICE, &query("quota"))
        .await
        .unwrap();
    assert_eq!(ids(&left), vec!["b1"]);
    assert_eq!(
        raw_count(db, "SELECT COUNT(*) FROM message_search").await,
        1
    );
    if matches!(db.raw, Raw::Sqlite(_)) {
        assert_eq!(
            raw_count(db, "SELECT COUNT(*) FROM message_search_fts").await,
            1
        );
    }
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
    "disk",
    "disks",
    "vm",
    "vcn",
    "subnet",
    "quota",
    "backup",
    "bucket",
    "restart",
    "rest",
    "oracle",
    "orchestrate",
    "alarm",
    "alarms",
    "cpu",
    "memory",
    "policy",
    "polish",
];

/// Users of three organisations say random things; random queries by each
/// return exactly that user's matching messages (every word a prefix of a
/// word of the message), never anyone else's.
async fn check_search_stays_with_its_owner(s: &dyn Store) {
    let mut rng = Rng(0x5eed_cafe_f00d);
    let users = ["user:alice", "user:bob", "key:carol"];
    let mut said: BTreeMap<(String, &str), Vec<(String, String)>> = BTreeMap::new();
    for o in 0..3 {
        let org = mk_org(s, &format!("org{o}")).await;
        for (u, who) in users.iter().enumerate() {
            for c in 0..2 {
                let sid = format!("s{o}{u}{c}");
                s.create_chat_session(&chat_session(&sid, &org.id, who, 10))
                    .await
                    .unwrap();
                let ms: Vec<ChatMessage> = (0..6)
                    .map(|i| {
                        let words: Vec<&str> = (0..1 + rng.next(5))
                            .map(|_| WORDS[rng.next(WORDS.len())])
                            .collect();
                        msg(
                            &format!("{sid}-m{i}"),
                            ["user", "assistant", "tool"][i % 3],
                            &words.join(" "),
                            100 + i as i64,
                        )
                    })
                    .collect();
                s.append_chat_messages(&org.id, &SessionId::from(&sid), &ms, 5)
                    .await
                    .unwrap();
                let mine = said.entry((org.id.to_string(), who)).or_default();
                mine.extend(ms.into_iter().map(|m| (m.id, m.content)));
            }
        }
    }
    let keys: Vec<(String, &str)> = said.keys().cloned().collect();
    for _ in 0..300 {
        let (org, who) = &keys[rng.next(keys.len())];
        let q: Vec<String> = (0..1 + rng.next(2))
            .map(|_| {
                let w = WORDS[rng.next(WORDS.len())];
                w[..1 + rng.next(w.len())].to_string()
            })
            .collect();
        let q = q.join(" ");
        let mut sq = query(&q);
        sq.limit = 100;
        let got: BTreeSet<String> = s
            .search_messages(&OrgId::from(org), who, &sq)
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.message_id)
            .collect();
        let expected: BTreeSet<String> = said[&(org.clone(), *who)]
            .iter()
            .filter(|(_, content)| {
                sq.terms
                    .iter()
                    .all(|t| content.split(' ').any(|w| w.starts_with(t.as_str())))
            })
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(got, expected, "{who} in {org} searching {q:?}");
    }
}
