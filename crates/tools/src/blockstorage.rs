//! Block storage: block volumes, boot volumes, backups, and attaching
//! volumes to instances.

use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::Service;
use serde_json::{json, Value};

use crate::catalogue::{tool, Args, Outcome, Tool};
use crate::params::{get_tool, list_tool, ANY_COMPARTMENT, INSTANCE, LIMIT};
use crate::rest::{created, pick, text};
use crate::OciTools;

/// The block storage tools (category `storage`).
pub(crate) const TOOLS: &[Tool] = &[
    tool!(list_volume_backups, list_tool!("listVolumeBackups", "storage", "List block volume backups in a compartment with size, type and state.", [ANY_COMPARTMENT, LIMIT])),
    tool!(get_block_volume, get_tool!("getBlockVolume", "storage", "Get one block volume: size, performance, state, backups policy.", "volumeId", "volume")),
    tool!(get_boot_volume, get_tool!("getBootVolume", "storage", "Get one boot volume: size, image, state.", "bootVolumeId", "bootvolume")),
    tool!(get_volume_backup, get_tool!("getVolumeBackup", "storage", "Get one volume backup: source volume, size, type, state.", "volumeBackupId", "volumebackup")),
    tool!(list_boot_volumes, ToolSpec {
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
    tool!(create_volume_backup, ToolSpec {
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
    tool!(create_block_volume, ToolSpec {
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
    tool!(attach_block_volume, ToolSpec {
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
    tool!(list_block_volumes, ToolSpec {
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
    pub(crate) async fn list_block_volumes(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::BLOCKSTORAGE,
            "/volumes",
            args,
            &[],
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

    pub(crate) async fn list_boot_volumes(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::BLOCKSTORAGE,
            "/bootVolumes",
            args,
            &[("availabilityDomain", "availabilityDomain")],
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

    pub(crate) async fn list_volume_backups(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::BLOCKSTORAGE,
            "/volumeBackups",
            args,
            &[],
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

    pub(crate) async fn get_block_volume(&self, args: &Args) -> Outcome {
        self.get_storage(args, "volumeId", "/volumes").await
    }

    pub(crate) async fn get_boot_volume(&self, args: &Args) -> Outcome {
        self.get_storage(args, "bootVolumeId", "/bootVolumes").await
    }

    pub(crate) async fn get_volume_backup(&self, args: &Args) -> Outcome {
        self.get_storage(args, "volumeBackupId", "/volumeBackups")
            .await
    }

    /// GET one block storage resource by the OCID in `param`.
    async fn get_storage(&self, args: &Args, param: &str, path: &str) -> Outcome {
        self.get(
            &Service::BLOCKSTORAGE,
            &format!("{path}/{}", text(args, param)),
        )
        .await
    }

    pub(crate) async fn create_block_volume(&self, args: &Args) -> Outcome {
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

    pub(crate) async fn attach_block_volume(&self, args: &Args) -> Outcome {
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

    pub(crate) async fn create_volume_backup(&self, args: &Args) -> Outcome {
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
}
