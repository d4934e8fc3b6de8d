//! Block storage: block volumes, boot volumes, backups, and attaching
//! volumes to instances.

use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::Service;
use serde_json::{json, Map, Value};

use crate::catalogue::{tool, Tool};
use crate::params::{get_tool, list_tool, ANY_COMPARTMENT, INSTANCE, LIMIT};
use crate::rest::{created, filters, limit, not_here, pick, text};
use crate::OciTools;

/// The block storage tools (category `storage`).
pub(crate) const TOOLS: &[Tool] = &[
    tool!(block_storage, list_tool!("listVolumeBackups", "storage", "List block volume backups in a compartment with size, type and state.", [ANY_COMPARTMENT, LIMIT])),
    tool!(block_storage, get_tool!("getBlockVolume", "storage", "Get one block volume: size, performance, state, backups policy.", "volumeId", "volume")),
    tool!(block_storage, get_tool!("getBootVolume", "storage", "Get one boot volume: size, image, state.", "bootVolumeId", "bootvolume")),
    tool!(block_storage, get_tool!("getVolumeBackup", "storage", "Get one volume backup: source volume, size, type, state.", "volumeBackupId", "volumebackup")),
    tool!(block_storage, ToolSpec {
        name: "listBootVolumes",
        category: "storage",
        description: "List boot volumes in a compartment, optionally in one availability domain.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            ANY_COMPARTMENT,
            Param { name: "availabilityDomain", kind: Kind::Text { max: 100 }, required: false, description: "e.g. Uocm:US-ASHBURN-AD-1", default: None, secret: false },
            LIMIT,
        ],
    }),
    tool!(block_storage, ToolSpec {
        name: "createVolumeBackup",
        category: "storage",
        description: "Back up a block volume (full or incremental). Needs an approval; mention the storage cost.",
        risk: Risk::Confirm,
        effect: Effect::Additive,
        idempotent: false,
        params: &[
            Param { name: "volumeId", kind: Kind::Ocid(Some("volume")), required: true, description: "OCID of the volume", default: None, secret: false },
            Param { name: "type", kind: Kind::Enum(&["FULL", "INCREMENTAL"]), required: false, description: "Backup type", default: Some("\"INCREMENTAL\""), secret: false },
            Param { name: "displayName", kind: Kind::Text { max: 255 }, required: false, description: "Backup name", default: None, secret: false },
        ],
    }),
    tool!(block_storage, ToolSpec {
        name: "createBlockVolume",
        category: "storage",
        description: "Create a block volume in an availability domain. Needs an approval; state the monthly storage cost first.",
        risk: Risk::Confirm,
        effect: Effect::Additive,
        idempotent: false,
        params: &[
            Param { name: "compartmentId", kind: Kind::Ocid(Some("compartment")), required: true, description: "OCID of the compartment", default: None, secret: false },
            Param { name: "availabilityDomain", kind: Kind::Text { max: 100 }, required: true, description: "Availability domain (see listAvailabilityDomains)", default: None, secret: false },
            Param { name: "sizeInGBs", kind: Kind::Int { min: 50, max: 32_768 }, required: false, description: "Size", default: Some("50"), secret: false },
            Param { name: "displayName", kind: Kind::Text { max: 255 }, required: false, description: "Name", default: None, secret: false },
        ],
    }),
    tool!(block_storage, ToolSpec {
        name: "attachBlockVolume",
        category: "storage",
        description: "Attach a block volume to an instance in the same availability domain. Needs an approval.",
        risk: Risk::Confirm,
        effect: Effect::Additive,
        idempotent: false,
        params: &[
            INSTANCE,
            Param { name: "volumeId", kind: Kind::Ocid(Some("volume")), required: true, description: "OCID of the volume", default: None, secret: false },
            Param { name: "type", kind: Kind::Enum(&["paravirtualized", "iscsi"]), required: false, description: "Attachment type", default: Some("\"paravirtualized\""), secret: false },
            Param { name: "readOnly", kind: Kind::Bool, required: false, description: "Attach read-only", default: Some("false"), secret: false },
        ],
    }),
    tool!(block_storage, ToolSpec {
        name: "listBlockVolumes",
        category: "storage",
        description: "List block volumes in a compartment with size and state.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[ANY_COMPARTMENT, LIMIT],
    }),
];

impl OciTools {
    /// Runs one of the block storage tools.
    pub(crate) async fn block_storage(
        &self,
        name: &str,
        args: &Map<String, Value>,
    ) -> Result<Value, ToolError> {
        let c = self.compartment(args);
        match name {
            "listBlockVolumes" => {
                self.list_projected(
                    &Service::BLOCKSTORAGE,
                    "/volumes",
                    &[("compartmentId", c)],
                    limit(args),
                    &[
                        "id",
                        "displayName",
                        "sizeInGBs",
                        "lifecycleState",
                        "availabilityDomain",
                    ],
                )
                .await
            }
            "listBootVolumes" => {
                let mut q = vec![("compartmentId", c)];
                q.extend(filters(
                    args,
                    &[("availabilityDomain", "availabilityDomain")],
                ));
                self.list_projected(
                    &Service::BLOCKSTORAGE,
                    "/bootVolumes",
                    &q,
                    limit(args),
                    &[
                        "id",
                        "displayName",
                        "sizeInGBs",
                        "imageId",
                        "lifecycleState",
                        "availabilityDomain",
                    ],
                )
                .await
            }
            "listVolumeBackups" => {
                self.list_projected(
                    &Service::BLOCKSTORAGE,
                    "/volumeBackups",
                    &[("compartmentId", c)],
                    limit(args),
                    &[
                        "id",
                        "displayName",
                        "volumeId",
                        "sizeInGBs",
                        "type",
                        "lifecycleState",
                        "timeCreated",
                    ],
                )
                .await
            }
            "getBlockVolume" | "getBootVolume" | "getVolumeBackup" => {
                let (param, path) = match name {
                    "getBlockVolume" => ("volumeId", "/volumes"),
                    "getBootVolume" => ("bootVolumeId", "/bootVolumes"),
                    _ => ("volumeBackupId", "/volumeBackups"),
                };
                self.get(
                    &Service::BLOCKSTORAGE,
                    &format!("{path}/{}", text(args, param)),
                )
                .await
            }
            "createBlockVolume" => {
                let mut b = json!({
                    "compartmentId": args.get("compartmentId"),
                    "availabilityDomain": args.get("availabilityDomain"),
                    "sizeInGBs": args.get("sizeInGBs"),
                });
                if let Some(n) = args.get("displayName") {
                    b["displayName"] = n.clone();
                }
                let res = self
                    .post(&Service::BLOCKSTORAGE, "/volumes", Some(b))
                    .await?;
                Ok(created(&res))
            }
            "attachBlockVolume" => {
                let b = json!({
                    "instanceId": args.get("instanceId"),
                    "volumeId": args.get("volumeId"),
                    "type": args.get("type"),
                    "isReadOnly": args.get("readOnly"),
                });
                let res = self
                    .post(&Service::COMPUTE, "/volumeAttachments", Some(b))
                    .await?;
                Ok(created(&res))
            }
            "createVolumeBackup" => {
                let mut body = json!({
                    "volumeId": args.get("volumeId").cloned().unwrap_or(Value::Null),
                    "type": args.get("type").cloned().unwrap_or(json!("INCREMENTAL")),
                });
                if let Some(n) = args.get("displayName") {
                    body["displayName"] = n.clone();
                }
                let res = self
                    .post(&Service::BLOCKSTORAGE, "/volumeBackups", Some(body))
                    .await?;
                Ok(pick(
                    &res,
                    &["id", "displayName", "volumeId", "type", "lifecycleState"],
                ))
            }
            other => not_here(other),
        }
    }
}
