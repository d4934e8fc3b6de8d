//! Container Registry (OCI Artifacts): repositories and their images.

use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::Service;
use serde_json::{Map, Value};

use crate::catalogue::{tool, Tool};
use crate::params::{list_tool, ANY_COMPARTMENT, LIMIT};
use crate::rest::{filters, limit, not_here};
use crate::OciTools;

/// The Container Registry tools (category `storage`, as the reference has them).
pub(crate) const TOOLS: &[Tool] = &[
    tool!(artifacts, list_tool!("listContainerRepos", "storage", "List Container Registry (OCIR) repositories in a compartment with their image count, size and visibility.", [ANY_COMPARTMENT, LIMIT])),
    tool!(artifacts, ToolSpec {
        name: "listContainerImages",
        category: "storage",
        description: "List container images in Container Registry (OCIR), optionally of one repository or version, with digests and push times.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            ANY_COMPARTMENT,
            Param { name: "repositoryName", kind: Kind::Text { max: 255 }, required: false, description: "Only this repository's, e.g. shop/web", default: None, secret: false },
            Param { name: "imageVersion", kind: Kind::Text { max: 128 }, required: false, description: "Only this version (tag), e.g. 1.2.0", default: None, secret: false },
            LIMIT,
        ],
    }),
];

impl OciTools {
    /// Runs one of the Container Registry tools.
    pub(crate) async fn artifacts(
        &self,
        name: &str,
        args: &Map<String, Value>,
    ) -> Result<Value, ToolError> {
        let mut q = vec![("compartmentId", self.compartment(args))];
        match name {
            "listContainerRepos" => {
                self.list_projected(
                    &Service::ARTIFACTS,
                    "/container/repositories",
                    &q,
                    limit(args),
                    &[
                        "id",
                        "displayName",
                        "isPublic",
                        "imageCount",
                        "layersSizeInBytes",
                        "lifecycleState",
                        "timeCreated",
                    ],
                )
                .await
            }
            "listContainerImages" => {
                q.extend(filters(
                    args,
                    &[
                        ("repositoryName", "repositoryName"),
                        ("version", "imageVersion"),
                    ],
                ));
                self.list_projected(
                    &Service::ARTIFACTS,
                    "/container/images",
                    &q,
                    limit(args),
                    &[
                        "id",
                        "displayName",
                        "repositoryName",
                        "version",
                        "digest",
                        "lifecycleState",
                        "timeCreated",
                    ],
                )
                .await
            }
            other => not_here(other),
        }
    }
}
