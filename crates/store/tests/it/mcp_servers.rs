//! The storage contract for remote MCP servers, checked identically on every
//! backend (harness: `support/contract.rs`): names unique per organisation,
//! every read and write confined to the organisation named.

use crate::support;

use std::collections::BTreeMap;

#[allow(unused_imports)]
use portal_core::journal::Journal;
use portal_core::mcp::{Health, McpServer, RemoteTool};
use portal_core::tools::Risk;
use serde_json::json;
use support::contract::*;

contract! {
    store: [
        check_mcp_servers,
    ],
    db: [
    ],
}

fn server(id: &str, org: &str, name: &str, at: i64) -> McpServer {
    McpServer {
        id: id.into(),
        org_id: org.into(),
        name: name.into(),
        url: "https://mcp.example.com/mcp".into(),
        transport: portal_core::mcp::Transport::StreamableHttp,
        credentials_sealed: Some("v1:sealed".into()),
        enabled: true,
        health: Health::Unknown,
        last_error: None,
        checked_at: None,
        tools: Vec::new(),
        risks: BTreeMap::new(),
        created_at: at,
        updated_at: at,
    }
}

async fn check_mcp_servers(s: &dyn Store) {
    let x = mk_org(s, "ox").await;
    let y = mk_org(s, "oy").await;
    assert!(s.list_mcp_servers(&x.id).await.unwrap().is_empty());
    let a = server("m-a", &x.id, "files", 200);
    let b = McpServer {
        credentials_sealed: None,
        ..server("m-b", &x.id, "notes", 100)
    };
    s.create_mcp_server(&a, Journal::NONE).await.unwrap();
    s.create_mcp_server(&b, Journal::NONE).await.unwrap();
    // The same name in another organisation is free; in the same one it is taken.
    let other = server("m-y", &y.id, "files", 50);
    s.create_mcp_server(&other, Journal::NONE).await.unwrap();
    assert_conflict(
        s.create_mcp_server(&server("m-c", &x.id, "files", 300), Journal::NONE)
            .await,
    );
    assert_eq!(
        s.get_mcp_server(&x.id, "m-a").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(s.get_mcp_server(&y.id, "m-a").await.unwrap(), None);
    assert_eq!(
        s.list_mcp_servers(&x.id).await.unwrap(),
        vec![b.clone(), a.clone()]
    );
    assert_eq!(
        s.list_mcp_servers(&y.id).await.unwrap(),
        vec![other.clone()]
    );

    let changed = McpServer {
        name: "files2".into(),
        url: "https://other.example.com/mcp".into(),
        credentials_sealed: None,
        enabled: false,
        health: Health::Failed,
        last_error: Some("connection refused".into()),
        checked_at: Some(400),
        tools: vec![RemoteTool {
            name: "read".into(),
            description: "Reads".into(),
            input_schema: json!({"type": "object", "properties": {"p": {"type": "string"}}}),
            read_only_hint: true,
        }],
        risks: BTreeMap::from([
            ("read".to_string(), Risk::Read),
            ("w".to_string(), Risk::Danger),
        ]),
        updated_at: 400,
        ..a.clone()
    };
    assert!(s.update_mcp_server(&changed, Journal::NONE).await.unwrap());
    assert_eq!(
        s.get_mcp_server(&x.id, "m-a").await.unwrap(),
        Some(changed.clone())
    );
    // Moved into another organisation's name, or written as another's: refused.
    assert_conflict(
        s.update_mcp_server(
            &McpServer {
                name: "notes".into(),
                ..changed.clone()
            },
            Journal::NONE,
        )
        .await,
    );
    let as_other_org = McpServer {
        org_id: y.id.clone(),
        ..changed.clone()
    };
    assert!(!s
        .update_mcp_server(&as_other_org, Journal::NONE)
        .await
        .unwrap());
    assert!(!s
        .delete_mcp_server(&y.id, "m-a", Journal::NONE)
        .await
        .unwrap());

    assert!(s
        .delete_mcp_server(&x.id, "m-a", Journal::NONE)
        .await
        .unwrap());
    assert!(!s
        .delete_mcp_server(&x.id, "m-a", Journal::NONE)
        .await
        .unwrap());
    assert_eq!(s.list_mcp_servers(&x.id).await.unwrap(), vec![b]);
    assert_eq!(s.list_mcp_servers(&y.id).await.unwrap(), vec![other]);
}
