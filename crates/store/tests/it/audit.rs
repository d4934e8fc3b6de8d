//! The storage contract for audit, checked identically on
//! every backend (harness: `support/contract.rs`).

use crate::support;

#[allow(unused_imports)]
use support::contract::*;

contract! {
    store: [
        check_audit_chains,
        check_audit_filters,
        check_audit_records_after,
    ],
    db: [
        check_audit_concurrent_appends,
        check_audit_append_only,
    ],
}

async fn check_audit_chains(s: &dyn Store) {
    let keys = keys();
    let org_chain = audit::org_chain("o1");
    assert!(s.audit_head(&org_chain).await.unwrap().is_none());
    assert!(s.audit_head(SYSTEM_CHAIN).await.unwrap().is_none());

    // Interleave two chains.
    let plan: [(Option<&str>, &str); 6] = [
        (Some("o1"), "org.created"),
        (None, "auth.sign_in_failed"),
        (Some("o1"), "member.added"),
        (Some("o1"), "member.role_changed"),
        (None, "setup.completed"),
        (Some("o1"), "tool.executed"),
    ];
    let mut appended: Vec<AuditRecord> = Vec::new();
    for (i, (org, action)) in plan.iter().enumerate() {
        let e = entry(*org, "user:u1", action, 1_000 + i as i64);
        let r = s.append_audit(&keys, &e).await.unwrap();
        let chain = e.chain();
        let prev = appended.iter().rev().find(|p| p.chain == chain);
        assert_eq!(r.chain, chain);
        assert_eq!(r.seq, prev.map_or(1, |p| p.seq + 1));
        assert_eq!(
            r.prev_mac,
            prev.map_or_else(|| audit::genesis(&keys, &chain), |p| p.mac.clone())
        );
        assert_ne!(r.mac, r.prev_mac);
        if let Some(last) = appended.last() {
            assert!(r.id > last.id, "ids increase globally");
        }
        assert_eq!(r.org_id.as_deref(), *org);
        assert_eq!(
            r.detail,
            format!(r#"{{"a":[1,2],"b":1,"note":"{action}"}}"#)
        );
        assert_eq!(
            (
                r.actor.as_str(),
                r.action.as_str(),
                r.target.clone(),
                r.outcome.as_str(),
                r.ip.as_deref(),
                r.created_at
            ),
            (
                "user:u1",
                *action,
                Some(format!("target-of-{action}")),
                "success",
                Some("192.0.2.1"),
                1_000 + i as i64
            )
        );
        // The head follows every append.
        let head = s.audit_head(&chain).await.unwrap().unwrap();
        assert_eq!(
            (head.chain.as_str(), head.seq, head.mac.as_str()),
            (chain.as_str(), r.seq, r.mac.as_str())
        );
        assert_eq!(head.head_mac, audit::head_mac(&keys, &chain, r.seq, &r.mac));
        appended.push(r);
    }
    let org_rows: Vec<_> = appended
        .iter()
        .filter(|r| r.chain == org_chain)
        .cloned()
        .collect();
    let sys_rows: Vec<_> = appended
        .iter()
        .filter(|r| r.chain == SYSTEM_CHAIN)
        .cloned()
        .collect();
    assert_eq!(
        org_rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(sys_rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2]);

    // Stored exactly as returned, newest first, per chain.
    let page = s.list_audit(&org_chain, &audit_filter(50)).await.unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(
        page.items,
        org_rows.iter().rev().cloned().collect::<Vec<_>>()
    );
    let page = s.list_audit(SYSTEM_CHAIN, &audit_filter(50)).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(
        page.items,
        sys_rows.iter().rev().cloned().collect::<Vec<_>>()
    );
    assert_eq!(
        s.list_audit("org:nope", &audit_filter(50))
            .await
            .unwrap()
            .total,
        0
    );

    // Both chains verify.
    for chain in [org_chain.as_str(), SYSTEM_CHAIN] {
        let (rows, v) = verify_chain(s, &keys, chain, 100).await;
        assert!(v.valid, "{chain}: {v:?}");
        assert_eq!(v.row_count, rows.len() as i64);
    }
}

async fn check_audit_filters(s: &dyn Store) {
    let keys = keys();
    let chain = audit::org_chain("o1");
    let plan = [
        ("user:a", "auth.sign_in", 100),
        ("user:b", "auth.sign_out", 200),
        ("user:a", "authz.check", 300),
        ("user:a", "tool_x.run", 400),
        ("user:b", "toolyx.run", 500),
        ("key:k", "50%.done", 600),
        ("key:k", "50x.done", 700),
        ("user:a", "auth.sign_in", 800),
    ];
    let mut recs = Vec::new();
    for (actor, action, at) in plan {
        recs.push(
            s.append_audit(&keys, &entry(Some("o1"), actor, action, at))
                .await
                .unwrap(),
        );
    }
    // Another organisation's chain with matching rows must never leak in.
    s.append_audit(&keys, &entry(Some("o2"), "user:a", "auth.sign_in", 150))
        .await
        .unwrap();

    let seqs = |p: Page<AuditRecord>| {
        (
            p.total,
            p.items.into_iter().map(|r| r.seq).collect::<Vec<_>>(),
        )
    };
    let with = |action: Option<&str>, actor: Option<&str>, from: Option<i64>, to: Option<i64>| {
        AuditFilter {
            action: action.map(Into::into),
            actor: actor.map(Into::into),
            from,
            to,
            limit: 50,
            offset: 0,
        }
    };

    assert_eq!(
        seqs(s.list_audit(&chain, &audit_filter(50)).await.unwrap()),
        (8, vec![8, 7, 6, 5, 4, 3, 2, 1])
    );
    // Exact action.
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("auth.sign_in"), None, None, None))
                .await
                .unwrap()
        ),
        (2, vec![8, 1])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("auth"), None, None, None))
                .await
                .unwrap()
        ),
        (0, vec![])
    );
    // Prefix.
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("auth.*"), None, None, None))
                .await
                .unwrap()
        ),
        (3, vec![8, 2, 1])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("auth*"), None, None, None))
                .await
                .unwrap()
        ),
        (4, vec![8, 3, 2, 1])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("*"), None, None, None))
                .await
                .unwrap()
        )
        .0,
        8
    );
    // LIKE wildcards in the prefix are literal.
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("tool_*"), None, None, None))
                .await
                .unwrap()
        ),
        (1, vec![4])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("50%*"), None, None, None))
                .await
                .unwrap()
        ),
        (1, vec![6])
    );
    // Matching is case-sensitive on both backends.
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("AUTH.*"), None, None, None))
                .await
                .unwrap()
        ),
        (0, vec![])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(Some("AUTH.sign_in"), None, None, None))
                .await
                .unwrap()
        ),
        (0, vec![])
    );
    // Actor and time.
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(None, Some("user:b"), None, None))
                .await
                .unwrap()
        ),
        (2, vec![5, 2])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(None, None, Some(300), Some(600)))
                .await
                .unwrap()
        ),
        (3, vec![5, 4, 3])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(None, None, Some(700), None))
                .await
                .unwrap()
        ),
        (2, vec![8, 7])
    );
    assert_eq!(
        seqs(
            s.list_audit(&chain, &with(None, None, None, Some(200)))
                .await
                .unwrap()
        ),
        (1, vec![1])
    );
    // Combined.
    assert_eq!(
        seqs(
            s.list_audit(
                &chain,
                &with(Some("auth.*"), Some("user:a"), Some(100), Some(800))
            )
            .await
            .unwrap()
        ),
        (1, vec![1])
    );
    // Paging keeps the total.
    let f = AuditFilter {
        limit: 3,
        offset: 2,
        ..Default::default()
    };
    assert_eq!(
        seqs(s.list_audit(&chain, &f).await.unwrap()),
        (8, vec![6, 5, 4])
    );
    let f = AuditFilter {
        action: Some("auth*".into()),
        limit: 2,
        offset: 1,
        ..Default::default()
    };
    assert_eq!(
        seqs(s.list_audit(&chain, &f).await.unwrap()),
        (4, vec![3, 2])
    );
    let page = s
        .list_audit(&chain, &with(Some("auth.sign_out"), None, None, None))
        .await
        .unwrap();
    assert_eq!(page.items, vec![recs[1].clone()]);

    // Pattern characters of either dialect (LIKE: % _ \, GLOB: * ? [) are literal in a prefix.
    let chain3 = &audit::org_chain("o3");
    for (i, action) in [
        "q?.run", "qx.run", "r[1].x", "r1.x", "s*.t", "sx.t", "u\\v.w", "u\\\\v.w",
    ]
    .iter()
    .enumerate()
    {
        s.append_audit(&keys, &entry(Some("o3"), "user:a", action, i as i64))
            .await
            .unwrap();
    }
    let only = |prefix: &str| {
        let f = with(Some(prefix), None, None, None);
        async move {
            s.list_audit(chain3, &f)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|r| r.action)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(only("q?*").await, ["q?.run"]);
    assert_eq!(only("r[1]*").await, ["r[1].x"]);
    assert_eq!(only("r[*").await, ["r[1].x"]);
    assert_eq!(only("s**").await, ["s*.t"]);
    assert_eq!(only("u\\v*").await, ["u\\v.w"]);
    assert_eq!(only("u\\*").await, ["u\\\\v.w", "u\\v.w"]);
    assert_eq!(only("q*").await, ["qx.run", "q?.run"]);
}

async fn check_audit_records_after(s: &dyn Store) {
    let keys = keys();
    let chain = audit::org_chain("o1");
    let mut recs = Vec::new();
    for i in 0..7 {
        recs.push(
            s.append_audit(&keys, &entry(Some("o1"), "user:a", "x.y", i))
                .await
                .unwrap(),
        );
        s.append_audit(&keys, &entry(None, "system", "sys.tick", i))
            .await
            .unwrap();
    }
    assert_eq!(
        s.audit_records_after(&chain, 0, 3).await.unwrap(),
        recs[0..3].to_vec()
    );
    assert_eq!(
        s.audit_records_after(&chain, 3, 3).await.unwrap(),
        recs[3..6].to_vec()
    );
    assert_eq!(
        s.audit_records_after(&chain, 6, 3).await.unwrap(),
        recs[6..7].to_vec()
    );
    assert!(s
        .audit_records_after(&chain, 7, 3)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .audit_records_after("org:nope", 0, 3)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .audit_records_after(&chain, 0, 0)
        .await
        .unwrap()
        .is_empty());

    for page in [1, 2, 3, 100] {
        let (rows, v) = verify_chain(s, &keys, &chain, page).await;
        assert!(v.valid, "{v:?}");
        assert_eq!(rows, recs);
        let (rows, v) = verify_chain(s, &keys, SYSTEM_CHAIN, page).await;
        assert!(v.valid, "{v:?}");
        assert_eq!(rows.len(), 7);
    }

    // With other keys the chain does not verify.
    let other = Keys::derive(&Secret::new(vec![8u8; 32]));
    let (_, v) = verify_chain(s, &other, &chain, 100).await;
    assert!(!v.valid);
}

async fn check_audit_concurrent_appends(db: &TestDb) {
    let keys = Arc::new(keys());
    let chain = audit::org_chain("busy");
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..10 {
        let store = db.store.clone();
        let keys = keys.clone();
        tasks.spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..5 {
                let e = entry(
                    Some("busy"),
                    &format!("user:t{t}"),
                    "load.append",
                    t * 100 + i,
                );
                seqs.push(store.append_audit(&keys, &e).await.expect("append").seq);
                // Another chain at the same time must not interfere.
                if i == 2 {
                    store
                        .append_audit(&keys, &entry(None, "system", "sys.tick", t))
                        .await
                        .expect("append system");
                }
            }
            seqs
        });
    }
    let mut all_seqs = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let seqs = r.expect("task");
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "a task's own appends are ordered: {seqs:?}"
        );
        all_seqs.extend(seqs);
    }
    all_seqs.sort_unstable();
    assert_eq!(all_seqs, (1..=50).collect::<Vec<i64>>());

    let s = db.store();
    let (rows, v) = verify_chain(s, &keys, &chain, 1_000).await;
    assert!(v.valid, "{v:?}");
    assert_eq!(
        rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=50).collect::<Vec<i64>>()
    );
    assert_eq!(s.audit_head(&chain).await.unwrap().unwrap().seq, 50);
    assert_eq!(
        s.list_audit(&chain, &audit_filter(1)).await.unwrap().total,
        50
    );
    let (rows, v) = verify_chain(s, &keys, SYSTEM_CHAIN, 1_000).await;
    assert!(v.valid, "{v:?}");
    assert_eq!(rows.len(), 10);
}

async fn check_audit_append_only(db: &TestDb) {
    let s = db.store();
    let keys = keys();
    let chain = audit::org_chain("o1");
    for i in 0..3 {
        s.append_audit(&keys, &entry(Some("o1"), "user:a", "x.y", i))
            .await
            .unwrap();
    }
    let before = s.audit_records_after(&chain, 0, 100).await.unwrap();

    match &db.raw {
        Raw::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap();
            c.busy_timeout(Duration::from_secs(5)).unwrap();
            for sql in [
                "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
                "UPDATE audit_log SET detail = '{}'",
                "DELETE FROM audit_log WHERE seq = 3",
                "DELETE FROM audit_log",
            ] {
                let err = c.execute(sql, []).expect_err(sql);
                assert!(err.to_string().contains("append-only"), "{sql}: {err}");
            }
        }
        Raw::Postgres(url) => {
            let c = pg_client(url).await;
            for sql in [
                "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
                "UPDATE audit_log SET detail = '{}'",
                "DELETE FROM audit_log WHERE seq = 3",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log",
            ] {
                let err = c.batch_execute(sql).await.expect_err(sql);
                let msg = err
                    .as_db_error()
                    .map(|d| d.message().to_string())
                    .unwrap_or_else(|| err.to_string());
                assert!(msg.contains("append-only"), "{sql}: {msg}");
            }
        }
    }

    assert_eq!(s.audit_records_after(&chain, 0, 100).await.unwrap(), before);
    let (_, v) = verify_chain(s, &keys, &chain, 100).await;
    assert!(v.valid, "{v:?}");
}
