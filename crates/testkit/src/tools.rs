//! Running tools over the REST route, shared by the tool and compartment tests.

use serde_json::{json, Value};

use crate::Client;

/// Runs `tool` with `args` through `POST /api/v1/tools/{tool}/execute`: status and body.
pub async fn run_tool(c: &Client, tool: &str, args: Value) -> (u16, Value) {
    let res = c
        .post(
            &format!("/api/v1/tools/{tool}/execute"),
            json!({ "args": args }),
        )
        .await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// The id of the compartment called `name`, as `listCompartments` shows it to `c`.
pub async fn compartment_id(c: &Client, name: &str) -> String {
    let (_, body) = run_tool(c, "listCompartments", json!({})).await;
    body["result"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("compartment {name} in {body}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}
