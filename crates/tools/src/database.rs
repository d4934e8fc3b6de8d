//! Autonomous Databases: listing, creating, starting, stopping, terminating.

use http::Method;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::Service;
use serde_json::{json, Value};

use crate::catalogue::{tool, Args, Outcome, Tool};
use crate::params::{get_tool, ANY_COMPARTMENT, LIMIT};
use crate::rest::{body_of, limit, pick, state_of, text};
use crate::{rules, OciTools};

/// The database tools.
pub(crate) const TOOLS: &[Tool] = &[
    tool!(get_autonomous_database, get_tool!("getAutonomousDatabase", "database", "Get one Autonomous Database: workload, version, OCPUs, storage, state, connection endpoints.", "autonomousDatabaseId", "autonomousdatabase")),
    tool!(start_autonomous_database, ToolSpec {
        name: "startAutonomousDatabase",
        category: "database",
        description: "Start a STOPPED Autonomous Database. Needs an approval; billing resumes.",
        risk: Risk::Confirm,
        effect: Effect::Additive,
        idempotent: true,
        params: &[Param { name: "autonomousDatabaseId", kind: Kind::Ocid(Some("autonomousdatabase")), required: true, description: "OCID of the database", default: None, secret: false }],
    }),
    tool!(stop_autonomous_database, ToolSpec {
        name: "stopAutonomousDatabase",
        category: "database",
        description: "Stop an AVAILABLE Autonomous Database. Needs an approval; connections drop.",
        risk: Risk::Confirm,
        effect: Effect::Destructive,
        idempotent: true,
        params: &[Param { name: "autonomousDatabaseId", kind: Kind::Ocid(Some("autonomousdatabase")), required: true, description: "OCID of the database", default: None, secret: false }],
    }),
    tool!(terminate_autonomous_database, ToolSpec {
        name: "terminateAutonomousDatabase",
        category: "database",
        description: "Delete an Autonomous Database and its data. Irreversible; needs an approval by someone other than the requester.",
        risk: Risk::Danger,
        effect: Effect::Destructive,
        idempotent: true,
        params: &[Param { name: "autonomousDatabaseId", kind: Kind::Ocid(Some("autonomousdatabase")), required: true, description: "OCID of the database", default: None, secret: false }],
    }),
    tool!(list_autonomous_databases, ToolSpec {
        name: "listAutonomousDatabases",
        category: "database",
        description: "List Autonomous Databases in a compartment with workload, state and size.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[ANY_COMPARTMENT, LIMIT],
    }),
    tool!(create_autonomous_database, ToolSpec {
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
    pub(crate) async fn list_autonomous_databases(&self, args: &Args) -> Outcome {
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

    pub(crate) async fn get_autonomous_database(&self, args: &Args) -> Outcome {
        let id = text(args, "autonomousDatabaseId");
        let path = format!("/autonomousDatabases/{id}");
        self.get(&Service::DATABASE, &path).await
    }

    pub(crate) async fn start_autonomous_database(&self, args: &Args) -> Outcome {
        self.autonomous_database_action(args, "start").await
    }

    pub(crate) async fn stop_autonomous_database(&self, args: &Args) -> Outcome {
        self.autonomous_database_action(args, "stop").await
    }

    /// Starts or stops an Autonomous Database; its state afterwards.
    async fn autonomous_database_action(&self, args: &Args, action: &str) -> Outcome {
        let id = text(args, "autonomousDatabaseId");
        let path = format!("/autonomousDatabases/{id}");
        let res = self
            .post(
                &Service::DATABASE,
                &format!("{path}/actions/{action}"),
                None,
            )
            .await?;
        Ok(state_of(id, &res))
    }

    pub(crate) async fn terminate_autonomous_database(&self, args: &Args) -> Outcome {
        let id = text(args, "autonomousDatabaseId");
        let path = format!("/autonomousDatabases/{id}");
        self.send(Method::DELETE, &Service::DATABASE, &path, &[], None)
            .await?;
        let now = self.get(&Service::DATABASE, &path).await?;
        Ok(state_of(id, &now))
    }

    pub(crate) async fn create_autonomous_database(&self, args: &Args) -> Outcome {
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
}
