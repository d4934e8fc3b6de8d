//! Container Registry (OCI Artifacts): repositories and their images.

use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::Service;

use crate::catalogue::{tool, Args, Outcome, Tool};
use crate::params::{list_tool, ANY_COMPARTMENT, LIMIT};
use crate::rest::{filters, limit};
use crate::OciTools;

/// The Container Registry tools (category `storage`, as the reference has them).
pub(crate) const TOOLS: &[Tool] = &[
    tool!(list_container_repos, list_tool!("listContainerRepos", "storage", "List Container Registry (OCIR) repositories in a compartment with their image count, size and visibility.", [ANY_COMPARTMENT, LIMIT])),
    tool!(list_container_images, ToolSpec {
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
    pub(crate) async fn list_container_repos(&self, args: &Args) -> Outcome {
        let q = vec![("compartmentId", self.compartment(args))];
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

    pub(crate) async fn list_container_images(&self, args: &Args) -> Outcome {
        let mut q = vec![("compartmentId", self.compartment(args))];
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
}
