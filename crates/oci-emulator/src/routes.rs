//! The operation table: every implemented OCI operation with its SDK name, HTTP
//! method, full path template (service base path + resource path) and handler.
//!
//! # Routing by path
//!
//! All services share one listener. Clients point every service at one endpoint
//! override, replacing scheme, host and port but keeping each service's base path,
//! so a request is identified by method + base path + resource path alone:
//!
//! * Compute, VirtualNetwork, Blockstorage, Database, Identity and Artifacts all
//!   use `/20160918`; within the implemented set their resource paths are disjoint
//!   (`/instances`, `/vcns`, `/volumes`, `/autonomousDatabases`, `/compartments`,
//!   `/container/...`...),
//!   so no host is needed to tell them apart.
//! * Object Storage has no version prefix (`/n/...`), Limits and Quotas carry their
//!   version in the path (`/20190729/...`, `/20181025/...`), and the remaining
//!   services have distinct base paths (`/20170115` Load Balancer, `/20180401`
//!   Monitoring, `/20190909` Logging Search, `/20200107` Usage, `/20180409` Search,
//!   `/20180530` Instance Agent).
//! * Ambiguity: in the full OCI API a few templates could collide across hosts
//!   sharing `/20160918` (e.g. `GET /20160918/workRequests/{id}` exists for
//!   Identity, and other services on other hosts have their own work requests).
//!   The emulator resolves this by requiring every `(method, template)` in this
//!   table to be unique (checked by a unit test) and, when a concrete path matches
//!   several templates, by preferring the one whose first differing segment is a
//!   literal (`/alarms/status` beats `/alarms/{alarmId}`). The `host` header is
//!   deliberately ignored.
//! * A trailing `/` is ignored (`GET /n/` and `GET /n` are both GetNamespace), and
//!   path parameters are percent-decoded segment by segment, so Object Storage
//!   object names may contain `%2F`.

use std::collections::BTreeMap;

use crate::services::{
    agent, artifacts, blockstorage, compute, database, identity, limits, listings, loadbalancer,
    logsearch, monitoring, multipart, network, objectstorage, search, updates, usage, workrequests,
    Ctx,
};
use crate::wire::{ApiError, Reply, Req};

/// Handler signature: mutate/read the state through [`Ctx`], answer a [`Reply`].
pub(crate) type Handler = fn(&mut Ctx<'_>, &Req<'_>) -> Result<Reply, ApiError>;

/// One implemented operation.
pub struct Operation {
    /// `<SdkClient>.<OperationId>`, e.g. `ComputeClient.ListInstances`.
    pub name: &'static str,
    /// HTTP method.
    pub method: &'static str,
    /// Full path template including the service base path.
    pub path: &'static str,
    /// True when the SDK signs the request without body headers (Object Storage
    /// `PutObject`), so verification must not require them.
    pub unsigned_body: bool,
    pub(crate) handler: Handler,
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.name, self.method, self.path)
    }
}

const fn op(
    name: &'static str,
    method: &'static str,
    path: &'static str,
    handler: Handler,
) -> Operation {
    Operation {
        name,
        method,
        path,
        unsigned_body: false,
        handler,
    }
}

/// Every implemented operation.
pub static OPERATIONS: &[Operation] = &[
    // ---- Compute (/20160918, iaas host)
    op(
        "ComputeClient.ListInstances",
        "GET",
        "/20160918/instances",
        compute::list_instances,
    ),
    op(
        "ComputeClient.LaunchInstance",
        "POST",
        "/20160918/instances",
        compute::launch_instance,
    ),
    op(
        "ComputeClient.GetInstance",
        "GET",
        "/20160918/instances/{instanceId}",
        compute::get_instance,
    ),
    op(
        "ComputeClient.InstanceAction",
        "POST",
        "/20160918/instances/{instanceId}",
        compute::instance_action,
    ),
    op(
        "ComputeClient.TerminateInstance",
        "DELETE",
        "/20160918/instances/{instanceId}",
        compute::terminate_instance,
    ),
    op(
        "ComputeClient.UpdateInstance",
        "PUT",
        "/20160918/instances/{instanceId}",
        updates::update_instance,
    ),
    op(
        "ComputeClient.ListShapes",
        "GET",
        "/20160918/shapes",
        compute::list_shapes,
    ),
    op(
        "ComputeClient.ListImages",
        "GET",
        "/20160918/images",
        compute::list_images,
    ),
    op(
        "ComputeClient.GetImage",
        "GET",
        "/20160918/images/{imageId}",
        compute::get_image,
    ),
    op(
        "ComputeClient.CaptureConsoleHistory",
        "POST",
        "/20160918/instanceConsoleHistories",
        compute::capture_console_history,
    ),
    op(
        "ComputeClient.ListConsoleHistories",
        "GET",
        "/20160918/instanceConsoleHistories",
        listings::list_console_histories,
    ),
    op(
        "ComputeClient.GetConsoleHistory",
        "GET",
        "/20160918/instanceConsoleHistories/{instanceConsoleHistoryId}",
        compute::get_console_history,
    ),
    op(
        "ComputeClient.GetConsoleHistoryContent",
        "GET",
        "/20160918/instanceConsoleHistories/{instanceConsoleHistoryId}/data",
        compute::get_console_history_content,
    ),
    op(
        "ComputeClient.ListVnicAttachments",
        "GET",
        "/20160918/vnicAttachments",
        compute::list_vnic_attachments,
    ),
    op(
        "ComputeClient.ListBootVolumeAttachments",
        "GET",
        "/20160918/bootVolumeAttachments",
        compute::list_boot_volume_attachments,
    ),
    op(
        "ComputeClient.ListVolumeAttachments",
        "GET",
        "/20160918/volumeAttachments",
        compute::list_volume_attachments,
    ),
    op(
        "ComputeClient.AttachVolume",
        "POST",
        "/20160918/volumeAttachments",
        compute::attach_volume,
    ),
    op(
        "ComputeClient.GetVolumeAttachment",
        "GET",
        "/20160918/volumeAttachments/{volumeAttachmentId}",
        compute::get_volume_attachment,
    ),
    op(
        "ComputeClient.DetachVolume",
        "DELETE",
        "/20160918/volumeAttachments/{volumeAttachmentId}",
        compute::detach_volume,
    ),
    // ---- Work Requests (/20160918, iaas host: oci.work_requests.WorkRequestClient;
    // Identity's work requests on the identity host share these paths and are
    // not emulated)
    op(
        "WorkRequestClient.ListWorkRequests",
        "GET",
        "/20160918/workRequests",
        workrequests::list_work_requests,
    ),
    op(
        "WorkRequestClient.GetWorkRequest",
        "GET",
        "/20160918/workRequests/{workRequestId}",
        workrequests::get_work_request,
    ),
    op(
        "WorkRequestClient.ListWorkRequestErrors",
        "GET",
        "/20160918/workRequests/{workRequestId}/errors",
        workrequests::list_work_request_errors,
    ),
    op(
        "WorkRequestClient.ListWorkRequestLogs",
        "GET",
        "/20160918/workRequests/{workRequestId}/logs",
        workrequests::list_work_request_logs,
    ),
    // ---- VirtualNetwork (/20160918, iaas host)
    op(
        "VirtualNetworkClient.ListVcns",
        "GET",
        "/20160918/vcns",
        network::list_vcns,
    ),
    op(
        "VirtualNetworkClient.CreateVcn",
        "POST",
        "/20160918/vcns",
        network::create_vcn,
    ),
    op(
        "VirtualNetworkClient.GetVcn",
        "GET",
        "/20160918/vcns/{vcnId}",
        network::get_vcn,
    ),
    op(
        "VirtualNetworkClient.DeleteVcn",
        "DELETE",
        "/20160918/vcns/{vcnId}",
        network::delete_vcn,
    ),
    op(
        "VirtualNetworkClient.UpdateVcn",
        "PUT",
        "/20160918/vcns/{vcnId}",
        updates::update_vcn,
    ),
    op(
        "VirtualNetworkClient.ListSubnets",
        "GET",
        "/20160918/subnets",
        network::list_subnets,
    ),
    op(
        "VirtualNetworkClient.CreateSubnet",
        "POST",
        "/20160918/subnets",
        network::create_subnet,
    ),
    op(
        "VirtualNetworkClient.GetSubnet",
        "GET",
        "/20160918/subnets/{subnetId}",
        network::get_subnet,
    ),
    op(
        "VirtualNetworkClient.DeleteSubnet",
        "DELETE",
        "/20160918/subnets/{subnetId}",
        network::delete_subnet,
    ),
    op(
        "VirtualNetworkClient.UpdateSubnet",
        "PUT",
        "/20160918/subnets/{subnetId}",
        updates::update_subnet,
    ),
    op(
        "VirtualNetworkClient.ListSecurityLists",
        "GET",
        "/20160918/securityLists",
        network::list_security_lists,
    ),
    op(
        "VirtualNetworkClient.GetSecurityList",
        "GET",
        "/20160918/securityLists/{securityListId}",
        network::get_security_list,
    ),
    op(
        "VirtualNetworkClient.UpdateSecurityList",
        "PUT",
        "/20160918/securityLists/{securityListId}",
        network::update_security_list,
    ),
    op(
        "VirtualNetworkClient.ListRouteTables",
        "GET",
        "/20160918/routeTables",
        network::list_route_tables,
    ),
    op(
        "VirtualNetworkClient.GetRouteTable",
        "GET",
        "/20160918/routeTables/{rtId}",
        network::get_route_table,
    ),
    op(
        "VirtualNetworkClient.ListInternetGateways",
        "GET",
        "/20160918/internetGateways",
        network::list_internet_gateways,
    ),
    op(
        "VirtualNetworkClient.ListNatGateways",
        "GET",
        "/20160918/natGateways",
        network::list_nat_gateways,
    ),
    op(
        "VirtualNetworkClient.GetVnic",
        "GET",
        "/20160918/vnics/{vnicId}",
        network::get_vnic,
    ),
    // ---- Blockstorage (/20160918, iaas host)
    op(
        "BlockstorageClient.ListBootVolumes",
        "GET",
        "/20160918/bootVolumes",
        blockstorage::list_boot_volumes,
    ),
    op(
        "BlockstorageClient.GetBootVolume",
        "GET",
        "/20160918/bootVolumes/{bootVolumeId}",
        blockstorage::get_boot_volume,
    ),
    op(
        "BlockstorageClient.ListVolumes",
        "GET",
        "/20160918/volumes",
        blockstorage::list_volumes,
    ),
    op(
        "BlockstorageClient.CreateVolume",
        "POST",
        "/20160918/volumes",
        blockstorage::create_volume,
    ),
    op(
        "BlockstorageClient.GetVolume",
        "GET",
        "/20160918/volumes/{volumeId}",
        blockstorage::get_volume,
    ),
    op(
        "BlockstorageClient.DeleteVolume",
        "DELETE",
        "/20160918/volumes/{volumeId}",
        blockstorage::delete_volume,
    ),
    op(
        "BlockstorageClient.UpdateVolume",
        "PUT",
        "/20160918/volumes/{volumeId}",
        updates::update_volume,
    ),
    op(
        "BlockstorageClient.ListVolumeBackups",
        "GET",
        "/20160918/volumeBackups",
        blockstorage::list_volume_backups,
    ),
    op(
        "BlockstorageClient.CreateVolumeBackup",
        "POST",
        "/20160918/volumeBackups",
        blockstorage::create_volume_backup,
    ),
    op(
        "BlockstorageClient.GetVolumeBackup",
        "GET",
        "/20160918/volumeBackups/{volumeBackupId}",
        blockstorage::get_volume_backup,
    ),
    // ---- Object Storage (no base path)
    op(
        "ObjectStorageClient.GetNamespace",
        "GET",
        "/n",
        objectstorage::get_namespace,
    ),
    op(
        "ObjectStorageClient.ListBuckets",
        "GET",
        "/n/{namespaceName}/b",
        objectstorage::list_buckets,
    ),
    op(
        "ObjectStorageClient.CreateBucket",
        "POST",
        "/n/{namespaceName}/b",
        objectstorage::create_bucket,
    ),
    op(
        "ObjectStorageClient.GetBucket",
        "GET",
        "/n/{namespaceName}/b/{bucketName}",
        objectstorage::get_bucket,
    ),
    op(
        "ObjectStorageClient.HeadBucket",
        "HEAD",
        "/n/{namespaceName}/b/{bucketName}",
        objectstorage::head_bucket,
    ),
    op(
        "ObjectStorageClient.DeleteBucket",
        "DELETE",
        "/n/{namespaceName}/b/{bucketName}",
        objectstorage::delete_bucket,
    ),
    op(
        "ObjectStorageClient.ListObjects",
        "GET",
        "/n/{namespaceName}/b/{bucketName}/o",
        objectstorage::list_objects,
    ),
    Operation {
        name: "ObjectStorageClient.PutObject",
        method: "PUT",
        path: "/n/{namespaceName}/b/{bucketName}/o/{objectName}",
        unsigned_body: true,
        handler: objectstorage::put_object,
    },
    op(
        "ObjectStorageClient.GetObject",
        "GET",
        "/n/{namespaceName}/b/{bucketName}/o/{objectName}",
        objectstorage::get_object,
    ),
    op(
        "ObjectStorageClient.HeadObject",
        "HEAD",
        "/n/{namespaceName}/b/{bucketName}/o/{objectName}",
        objectstorage::head_object,
    ),
    op(
        "ObjectStorageClient.DeleteObject",
        "DELETE",
        "/n/{namespaceName}/b/{bucketName}/o/{objectName}",
        objectstorage::delete_object,
    ),
    op(
        "ObjectStorageClient.GetNamespaceMetadata",
        "GET",
        "/n/{namespaceName}",
        listings::get_namespace_metadata,
    ),
    op(
        "ObjectStorageClient.ListPreauthenticatedRequests",
        "GET",
        "/n/{namespaceName}/b/{bucketName}/p",
        listings::list_preauthenticated_requests,
    ),
    op(
        "ObjectStorageClient.CreateMultipartUpload",
        "POST",
        "/n/{namespaceName}/b/{bucketName}/u",
        multipart::create_multipart_upload,
    ),
    op(
        "ObjectStorageClient.ListMultipartUploads",
        "GET",
        "/n/{namespaceName}/b/{bucketName}/u",
        multipart::list_multipart_uploads,
    ),
    Operation {
        name: "ObjectStorageClient.UploadPart",
        method: "PUT",
        path: "/n/{namespaceName}/b/{bucketName}/u/{objectName}",
        unsigned_body: true,
        handler: multipart::upload_part,
    },
    op(
        "ObjectStorageClient.ListMultipartUploadParts",
        "GET",
        "/n/{namespaceName}/b/{bucketName}/u/{objectName}",
        multipart::list_multipart_upload_parts,
    ),
    op(
        "ObjectStorageClient.CommitMultipartUpload",
        "POST",
        "/n/{namespaceName}/b/{bucketName}/u/{objectName}",
        multipart::commit_multipart_upload,
    ),
    op(
        "ObjectStorageClient.AbortMultipartUpload",
        "DELETE",
        "/n/{namespaceName}/b/{bucketName}/u/{objectName}",
        multipart::abort_multipart_upload,
    ),
    // ---- Database (/20160918, database host)
    op(
        "DatabaseClient.ListAutonomousDatabases",
        "GET",
        "/20160918/autonomousDatabases",
        database::list_autonomous_databases,
    ),
    op(
        "DatabaseClient.CreateAutonomousDatabase",
        "POST",
        "/20160918/autonomousDatabases",
        database::create_autonomous_database,
    ),
    op(
        "DatabaseClient.GetAutonomousDatabase",
        "GET",
        "/20160918/autonomousDatabases/{autonomousDatabaseId}",
        database::get_autonomous_database,
    ),
    op(
        "DatabaseClient.DeleteAutonomousDatabase",
        "DELETE",
        "/20160918/autonomousDatabases/{autonomousDatabaseId}",
        database::delete_autonomous_database,
    ),
    op(
        "DatabaseClient.StartAutonomousDatabase",
        "POST",
        "/20160918/autonomousDatabases/{autonomousDatabaseId}/actions/start",
        database::start_autonomous_database,
    ),
    op(
        "DatabaseClient.StopAutonomousDatabase",
        "POST",
        "/20160918/autonomousDatabases/{autonomousDatabaseId}/actions/stop",
        database::stop_autonomous_database,
    ),
    // ---- Identity (/20160918, identity host)
    op(
        "IdentityClient.ListCompartments",
        "GET",
        "/20160918/compartments",
        identity::list_compartments,
    ),
    op(
        "IdentityClient.GetCompartment",
        "GET",
        "/20160918/compartments/{compartmentId}",
        identity::get_compartment,
    ),
    op(
        "IdentityClient.GetTenancy",
        "GET",
        "/20160918/tenancies/{tenancyId}",
        identity::get_tenancy,
    ),
    op(
        "IdentityClient.ListRegionSubscriptions",
        "GET",
        "/20160918/tenancies/{tenancyId}/regionSubscriptions",
        identity::list_region_subscriptions,
    ),
    op(
        "IdentityClient.ListRegions",
        "GET",
        "/20160918/regions",
        identity::list_regions,
    ),
    op(
        "IdentityClient.ListAvailabilityDomains",
        "GET",
        "/20160918/availabilityDomains",
        identity::list_availability_domains,
    ),
    op(
        "IdentityClient.ListUsers",
        "GET",
        "/20160918/users",
        identity::list_users,
    ),
    op(
        "IdentityClient.GetUser",
        "GET",
        "/20160918/users/{userId}",
        identity::get_user,
    ),
    op(
        "IdentityClient.ListGroups",
        "GET",
        "/20160918/groups",
        identity::list_groups,
    ),
    op(
        "IdentityClient.ListPolicies",
        "GET",
        "/20160918/policies",
        identity::list_policies,
    ),
    op(
        "IdentityClient.CreatePolicy",
        "POST",
        "/20160918/policies",
        identity::create_policy,
    ),
    // ---- Load Balancer (/20170115)
    op(
        "LoadBalancerClient.ListLoadBalancers",
        "GET",
        "/20170115/loadBalancers",
        loadbalancer::list_load_balancers,
    ),
    op(
        "LoadBalancerClient.GetLoadBalancer",
        "GET",
        "/20170115/loadBalancers/{loadBalancerId}",
        loadbalancer::get_load_balancer,
    ),
    op(
        "LoadBalancerClient.GetLoadBalancerHealth",
        "GET",
        "/20170115/loadBalancers/{loadBalancerId}/health",
        loadbalancer::get_load_balancer_health,
    ),
    op(
        "LoadBalancerClient.ListBackendSets",
        "GET",
        "/20170115/loadBalancers/{loadBalancerId}/backendSets",
        loadbalancer::list_backend_sets,
    ),
    op(
        "LoadBalancerClient.GetBackendSetHealth",
        "GET",
        "/20170115/loadBalancers/{loadBalancerId}/backendSets/{backendSetName}/health",
        loadbalancer::get_backend_set_health,
    ),
    // ---- Monitoring (/20180401)
    op(
        "MonitoringClient.ListAlarms",
        "GET",
        "/20180401/alarms",
        monitoring::list_alarms,
    ),
    op(
        "MonitoringClient.ListAlarmsStatus",
        "GET",
        "/20180401/alarms/status",
        monitoring::list_alarms_status,
    ),
    op(
        "MonitoringClient.GetAlarm",
        "GET",
        "/20180401/alarms/{alarmId}",
        monitoring::get_alarm,
    ),
    op(
        "MonitoringClient.SummarizeMetricsData",
        "POST",
        "/20180401/metrics/actions/summarizeMetricsData",
        monitoring::summarize_metrics_data,
    ),
    op(
        "MonitoringClient.ListMetrics",
        "POST",
        "/20180401/metrics/actions/listMetrics",
        monitoring::list_metrics,
    ),
    // ---- Logging Search (/20190909)
    op(
        "LogSearchClient.SearchLogs",
        "POST",
        "/20190909/search",
        logsearch::search_logs,
    ),
    // ---- Usage API (/20200107)
    op(
        "UsageapiClient.RequestSummarizedUsages",
        "POST",
        "/20200107/usage",
        usage::request_summarized_usages,
    ),
    // ---- Resource Search (/20180409)
    op(
        "ResourceSearchClient.SearchResources",
        "POST",
        "/20180409/resources",
        search::search_resources,
    ),
    op(
        "ResourceSearchClient.ListResourceTypes",
        "GET",
        "/20180409/resourceTypes",
        listings::list_resource_types,
    ),
    // ---- Limits and Quotas (version in the path)
    op(
        "LimitsClient.ListServices",
        "GET",
        "/20190729/services",
        limits::list_services,
    ),
    op(
        "LimitsClient.ListLimitValues",
        "GET",
        "/20190729/limitValues",
        limits::list_limit_values,
    ),
    op(
        "LimitsClient.ListLimitDefinitions",
        "GET",
        "/20190729/limitDefinitions",
        listings::list_limit_definitions,
    ),
    op(
        "LimitsClient.GetResourceAvailability",
        "GET",
        "/20190729/services/{serviceName}/limits/{limitName}/resourceAvailability",
        limits::get_resource_availability,
    ),
    op(
        "QuotasClient.ListQuotas",
        "GET",
        "/20181025/quotas",
        limits::list_quotas,
    ),
    // ---- Compute Instance Agent (/20180530)
    op(
        "ComputeInstanceAgentClient.CreateInstanceAgentCommand",
        "POST",
        "/20180530/instanceAgentCommands",
        agent::create_command,
    ),
    op(
        "ComputeInstanceAgentClient.ListInstanceAgentCommands",
        "GET",
        "/20180530/instanceAgentCommands",
        agent::list_commands,
    ),
    op(
        "ComputeInstanceAgentClient.GetInstanceAgentCommand",
        "GET",
        "/20180530/instanceAgentCommands/{instanceAgentCommandId}",
        agent::get_command,
    ),
    op(
        "ComputeInstanceAgentClient.GetInstanceAgentCommandExecution",
        "GET",
        "/20180530/instanceAgentCommands/{instanceAgentCommandId}/status",
        agent::get_execution,
    ),
    op(
        "ComputeInstanceAgentClient.ListInstanceAgentCommandExecutions",
        "GET",
        "/20180530/instanceAgentCommandExecutions",
        agent::list_executions,
    ),
    op(
        "PluginClient.ListInstanceAgentPlugins",
        "GET",
        "/20180530/instanceagents/{instanceagentId}/plugins",
        agent::list_plugins,
    ),
    // ---- Artifacts (/20160918, artifacts host: Container Registry)
    op(
        "ArtifactsClient.ListContainerRepositories",
        "GET",
        "/20160918/container/repositories",
        artifacts::list_container_repositories,
    ),
    op(
        "ArtifactsClient.ListContainerImages",
        "GET",
        "/20160918/container/images",
        artifacts::list_container_images,
    ),
];

/// Look an operation up by its `<Client>.<OperationId>` name.
pub fn operation(name: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|o| o.name == name)
}

/// The operation a request `method` + raw `path` (without query) would run.
pub fn operation_for(method: &str, path: &str) -> Option<&'static Operation> {
    match match_route(method, path) {
        Match::Found(op, _) => Some(op),
        _ => None,
    }
}

/// Outcome of matching a request path against the table.
pub(crate) enum Match {
    /// An operation matched; decoded path parameters by name.
    Found(&'static Operation, BTreeMap<&'static str, String>),
    /// A path parameter is not valid percent-encoded UTF-8.
    BadPath(String),
    /// Nothing matched.
    NotFound,
}

fn split(path: &str) -> Vec<&str> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    }
}

/// Match `method` + raw (still percent-encoded) `path`.
pub(crate) fn match_route(method: &str, path: &str) -> Match {
    let segs = split(path);
    // Candidates whose shape matches; rank by literal-ness of each segment.
    let mut best: Option<(&'static Operation, Vec<bool>)> = None;
    for op in OPERATIONS.iter().filter(|o| o.method == method) {
        let tpl = split(op.path);
        if tpl.len() != segs.len() {
            continue;
        }
        let mut literal_mask = Vec::with_capacity(tpl.len());
        let mut ok = true;
        for (t, s) in tpl.iter().zip(&segs) {
            if t.starts_with('{') {
                if s.is_empty() {
                    ok = false;
                    break;
                }
                literal_mask.push(false);
            } else if t == s {
                literal_mask.push(true);
            } else {
                ok = false;
                break;
            }
        }
        if !ok {
            continue;
        }
        let better = match &best {
            None => true,
            Some((_, mask)) => literal_mask > *mask,
        };
        if better {
            best = Some((op, literal_mask));
        }
    }
    let Some((op, _)) = best else {
        return Match::NotFound;
    };
    let mut params = BTreeMap::new();
    for (t, s) in split(op.path).iter().zip(&segs) {
        if let Some(name) = t.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
            match percent_encoding::percent_decode_str(s).decode_utf8() {
                Ok(v) => {
                    // Names in templates are 'static; find the matching static str.
                    let key: &'static str = static_param_name(op.path, name);
                    params.insert(key, v.into_owned());
                }
                Err(_) => {
                    return Match::BadPath(format!(
                        "path parameter `{name}` is not valid UTF-8 after percent-decoding"
                    ))
                }
            }
        }
    }
    Match::Found(op, params)
}

fn static_param_name(path: &'static str, name: &str) -> &'static str {
    path.split('/')
        .filter_map(|t| t.strip_prefix('{').and_then(|n| n.strip_suffix('}')))
        .find(|n| *n == name)
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_unique() {
        for (i, a) in OPERATIONS.iter().enumerate() {
            for b in &OPERATIONS[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "duplicate route {a:?} / {b:?}"
                );
                assert_ne!(a.name, b.name);
            }
        }
    }

    #[test]
    fn literal_segments_win() {
        match match_route("GET", "/20180401/alarms/status") {
            Match::Found(op, _) => assert_eq!(op.name, "MonitoringClient.ListAlarmsStatus"),
            _ => panic!("no match"),
        }
        match match_route("GET", "/20180401/alarms/ocid1.alarm.x") {
            Match::Found(op, p) => {
                assert_eq!(op.name, "MonitoringClient.GetAlarm");
                assert_eq!(p.get("alarmId").map(String::as_str), Some("ocid1.alarm.x"));
            }
            _ => panic!("no match"),
        }
    }

    #[test]
    fn decodes_object_names_and_ignores_trailing_slash() {
        match match_route("GET", "/n/ns/b/bk/o/a%2Fb%20c.txt") {
            Match::Found(op, p) => {
                assert_eq!(op.name, "ObjectStorageClient.GetObject");
                assert_eq!(p.get("objectName").map(String::as_str), Some("a/b c.txt"));
            }
            _ => panic!("no match"),
        }
        assert!(
            matches!(match_route("GET", "/n/"), Match::Found(op, _) if op.name == "ObjectStorageClient.GetNamespace")
        );
        assert!(matches!(match_route("GET", "/nope"), Match::NotFound));
        assert!(matches!(
            match_route("PATCH", "/20160918/instances"),
            Match::NotFound
        ));
        assert!(matches!(
            match_route("GET", "/n/ns/b/bk/o/%FF"),
            Match::BadPath(_)
        ));
    }
}
