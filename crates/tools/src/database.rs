//! Autonomous Databases: listing, creating, starting, stopping, terminating.

use http::Method;
use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::Service;
use serde_json::{json, Map, Value};

use crate::catalogue::{tool, Tool};
use crate::params::{get_tool, ANY_COMPARTMENT, LIMIT};
use crate::rest::{body_of, limit, not_here, pick, state_of, text};
use crate::{rules, OciTools};

/// The database tools.
pub(crate) const TOOLS: &[Tool] = &[
    tool!(database, get_tool!("getAutonomousDatabase", "database", "Get one Autonomous Database: workload, version, OCPUs, storage, state, connection endpoints.", "autonomousDatabaseId", "autonomousdatabase")),
    tool!(database, ToolSpec {
        name: "startAutonomousDatabase",
        category: "database",
        description: "Start a STOPPED Autonomous Database. Needs an approval; billing resumes.",
        risk: Risk::Confirm,
        effect: Effect::Additive,
        idempotent: true,
        params: &[Param { name: "autonomousDatabaseId", kind: Kind::Ocid(Some("autonomousdatabase")), required: true, description: "OCID of the database", default: None, secret: false }],
    }),
    tool!(database, ToolSpec {
        name: "stopAutonomousDatabase",
        category: "database",
        description: "Stop an AVAILABLE Autonomous Database. Needs an approval; connections drop.",
        risk: Risk::Confirm,
        effect: Effect::Destructive,
        idempotent: true,
        params: &[Param { name: "autonomousDatabaseId", kind: Kind::Ocid(Some("autonomousdatabase")), required: true, description: "OCID of the database", default: None, secret: false }],
    }),
    tool!(database, ToolSpec {
        name: "terminateAutonomousDatabase",
        category: "database",
        description: "Delete an Autonomous Database and its data. Irreversible; needs an approval by someone other than the requester.",
        risk: Risk::Danger,
        effect: Effect::Destructive,
        idempotent: true,
        params: &[Param { name: "autonomousDatabaseId", kind: Kind::Ocid(Some("autonomousdatabase")), required: true, description: "OCID of the database", default: None, secret: false }],
    }),
    tool!(database, ToolSpec {
        name: "listAutonomousDatabases",
        category: "database",
        description: "List Autonomous Databases in a compartment with workload, state and size.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[ANY_COMPARTMENT, LIMIT],
    }),
    tool!(database, ToolSpec {
        name: "createAutonomousDatabase",
        category: "database",
        description: "Create an Autonomous Database. Needs an approval; state the monthly cost first (free tier: none). The admin password is secret: never shown, stored or logged outside the call.",
        risk: Risk::Confirm,
        effect: Effect::Additive,
        idempotent: false,
        params: &[
            Param { name: "compartmentId", kind: Kind::Ocid(Some("compartment")), required: true, description: "OCID of the compartment", default: None, secret: false },
            Param { name: "dbName", kind: Kind::Rule(&rules::DB_NAME), required: true, description: "Database name, unique in the tenancy", default: None, secret: false },
            Param { name: "displayName", kind: Kind::Text { max: 255 }, required: false, description: "Name shown in the console (default: dbName)", default: None, secret: false },
            Param { name: "dbWorkload", kind: Kind::Enum(&["OLTP", "DW", "AJD", "APEX"]), required: false, description: "Transaction processing, data warehouse, JSON or APEX", default: Some("\"OLTP\""), secret: false },
            Param { name: "cpuCoreCount", kind: Kind::Int { min: 1, max: 128 }, required: false, description: "OCPUs", default: Some("1"), secret: false },
            Param { name: "dataStorageSizeInTBs", kind: Kind::Int { min: 1, max: 384 }, required: false, description: "Storage in TB", default: Some("1"), secret: false },
            Param { name: "isFreeTier", kind: Kind::Bool, required: false, description: "An Always Free database (fixed small size, no cost)", default: Some("false"), secret: false },
            Param { name: "adminPassword", kind: Kind::Rule(&rules::ADB_PASSWORD), required: true, description: "Password of the ADMIN user", default: None, secret: true },
        ],
    }),
];

impl OciTools {
    /// Runs one of the database tools.
    pub(crate) async fn database(
        &self,
        name: &str,
        args: &Map<String, Value>,
    ) -> Result<Value, ToolError> {
        let id = text(args, "autonomousDatabaseId");
        let path = format!("/autonomousDatabases/{id}");
        match name {
            "listAutonomousDatabases" => {
                self.list_projected(
                    &Service::DATABASE,
                    "/autonomousDatabases",
                    &[("compartmentId", self.compartment(args))],
                    limit(args),
                    &[
                        "id",
                        "displayName",
                        "dbWorkload",
                        "lifecycleState",
                        "cpuCoreCount",
                        "dataStorageSizeInTBs",
                    ],
                )
                .await
            }
            "getAutonomousDatabase" => self.get(&Service::DATABASE, &path).await,
            "startAutonomousDatabase" | "stopAutonomousDatabase" => {
                let action = if name == "startAutonomousDatabase" {
                    "start"
                } else {
                    "stop"
                };
                let res = self
                    .post(
                        &Service::DATABASE,
                        &format!("{path}/actions/{action}"),
                        None,
                    )
                    .await?;
                Ok(state_of(id, &res))
            }
            "terminateAutonomousDatabase" => {
                self.send(Method::DELETE, &Service::DATABASE, &path, &[], None)
                    .await?;
                let now = self.get(&Service::DATABASE, &path).await?;
                Ok(state_of(id, &now))
            }
            "createAutonomousDatabase" => {
                let mut body = body_of(
                    args,
                    &[
                        "compartmentId",
                        "dbName",
                        "displayName",
                        "dbWorkload",
                        "cpuCoreCount",
                        "dataStorageSizeInTBs",
                        "isFreeTier",
                        "adminPassword",
                    ],
                );
                body.insert("source".into(), json!("NONE"));
                let res = self
                    .post(
                        &Service::DATABASE,
                        "/autonomousDatabases",
                        Some(Value::Object(body)),
                    )
                    .await?;
                Ok(pick(
                    &res,
                    &[
                        "id",
                        "displayName",
                        "dbName",
                        "dbWorkload",
                        "lifecycleState",
                        "cpuCoreCount",
                        "dataStorageSizeInTBs",
                        "isFreeTier",
                    ],
                ))
            }
            other => not_here(other),
        }
    }
}
