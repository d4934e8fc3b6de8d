//! Object Storage: the namespace, buckets and the objects in them.

use http::Method;
use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::{encode_path_param, Service};
use serde_json::{json, Map, Value};

use crate::catalogue::{tool, Args, Outcome, Tool};
use crate::params::{list_tool, ANY_COMPARTMENT, LIMIT};
use crate::rest::{counted, filters, items_of, limit, text};
use crate::{rules, OciTools};

/// The Object Storage tools (category `storage`).
pub(crate) const TOOLS: &[Tool] = &[
    tool!(list_objects, ToolSpec {
        name: "listObjects",
        category: "storage",
        description: "List objects in an Object Storage bucket, optionally under a prefix.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            Param { name: "bucketName", kind: Kind::Rule(&rules::BUCKET_NAME), required: true, description: "Bucket name", default: None, secret: false },
            Param { name: "prefix", kind: Kind::Text { max: 1024 }, required: false, description: "Only names starting with this", default: None, secret: false },
            Param { name: "limit", kind: Kind::Int { min: 1, max: 1000 }, required: false, description: "Most objects to return", default: Some("100"), secret: false },
        ],
    }),
    tool!(get_bucket, ToolSpec {
        name: "getBucket",
        category: "storage",
        description: "Get one Object Storage bucket: storage tier, public access, versioning, object count and size.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[Param { name: "bucketName", kind: Kind::Rule(&rules::BUCKET_NAME), required: true, description: "Bucket name", default: None, secret: false }],
    }),
    tool!(create_bucket, ToolSpec {
        name: "createBucket",
        category: "storage",
        description: "Create a private Object Storage bucket in a compartment. Needs an approval.",
        risk: Risk::Confirm,
        effect: Effect::Additive,
        idempotent: false,
        params: &[
            Param { name: "compartmentId", kind: Kind::Ocid(Some("compartment")), required: true, description: "OCID of the compartment", default: None, secret: false },
            Param { name: "name", kind: Kind::Rule(&rules::BUCKET_NAME), required: true, description: "Bucket name", default: None, secret: false },
            Param { name: "storageTier", kind: Kind::Enum(&["Standard", "Archive"]), required: false, description: "Storage tier", default: Some("\"Standard\""), secret: false },
        ],
    }),
    tool!(delete_bucket, ToolSpec {
        name: "deleteBucket",
        category: "storage",
        description: "Delete an empty Object Storage bucket. Irreversible; needs an approval by someone other than the requester.",
        risk: Risk::Danger,
        effect: Effect::Destructive,
        idempotent: true,
        params: &[Param { name: "bucketName", kind: Kind::Rule(&rules::BUCKET_NAME), required: true, description: "Bucket name", default: None, secret: false }],
    }),
    tool!(get_object_storage_namespace, list_tool!("getObjectStorageNamespace", "storage", "Get the tenancy's Object Storage namespace (needed in object URLs).", [])),
    tool!(list_buckets, ToolSpec {
        name: "listBuckets",
        category: "storage",
        description: "List Object Storage buckets in a compartment.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[ANY_COMPARTMENT, LIMIT],
    }),
];

impl OciTools {
    pub(crate) async fn get_object_storage_namespace(&self, _args: &Args) -> Outcome {
        Ok(json!({"namespace": self.get(&Service::OBJECT_STORAGE, "/n").await?}))
    }

    pub(crate) async fn list_buckets(&self, args: &Args) -> Outcome {
        let ns = self.namespace().await?;
        self.list_projected(
            &Service::OBJECT_STORAGE,
            &format!("/n/{ns}/b"),
            &[("compartmentId", self.compartment(args))],
            limit(args),
            &["name", "namespace", "compartmentId", "timeCreated"],
        )
        .await
    }

    pub(crate) async fn create_bucket(&self, args: &Args) -> Outcome {
        let ns = self.namespace().await?;
        let body = json!({
            "compartmentId": args.get("compartmentId").cloned().unwrap_or(Value::Null),
            "name": args.get("name").cloned().unwrap_or(Value::Null),
            "storageTier": args.get("storageTier").cloned().unwrap_or(json!("Standard")),
            "publicAccessType": "NoPublicAccess",
        });
        self.post(&Service::OBJECT_STORAGE, &format!("/n/{ns}/b"), Some(body))
            .await
    }

    pub(crate) async fn get_bucket(&self, args: &Args) -> Outcome {
        let path = self.bucket_path(args).await?;
        // A csv list: one comma-joined value, as the SDK sends it.
        let q = [("fields", "approximateCount,approximateSize")];
        self.send(Method::GET, &Service::OBJECT_STORAGE, &path, &q, None)
            .await
            .map(|r| r.body)
    }

    pub(crate) async fn delete_bucket(&self, args: &Args) -> Outcome {
        let path = self.bucket_path(args).await?;
        self.send(Method::DELETE, &Service::OBJECT_STORAGE, &path, &[], None)
            .await?;
        Ok(json!({"bucketName": text(args, "bucketName"), "deleted": true}))
    }

    pub(crate) async fn list_objects(&self, args: &Args) -> Outcome {
        let path = self.bucket_path(args).await?;
        let mut q = vec![("fields", "name,size,timeCreated"), ("limit", "1000")];
        q.extend(filters(args, &[("prefix", "prefix")]));
        let res = self
            .send(
                Method::GET,
                &Service::OBJECT_STORAGE,
                &format!("{path}/o"),
                &q,
                None,
            )
            .await?;
        let mut objects = items_of(&res.body, "objects");
        objects.truncate(limit(args));
        Ok(counted(objects, &["name", "size", "timeCreated"]))
    }

    /// `/n/{namespace}/b/{bucketName}`, the name encoded as one path segment.
    async fn bucket_path(&self, args: &Map<String, Value>) -> Result<String, ToolError> {
        let ns = self.namespace().await?;
        let bucket = encode_path_param(text(args, "bucketName"), true)
            .map_err(|e| ToolError::Invalid(e.to_string()))?;
        Ok(format!("/n/{ns}/b/{bucket}"))
    }
}
