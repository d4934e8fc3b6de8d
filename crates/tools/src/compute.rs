//! Compute: instances and their lifecycle, launch, shapes and images, VNICs,
//! volume attachments, the serial console, and Run Command through the
//! Oracle Cloud Agent.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use http::Method;
use portal_core::service::tools::ToolError;
use portal_core::tools::{Effect, Kind, Param, Risk, ToolSpec};
use portal_oci::endpoint::Service;
use serde_json::{json, Map, Value};

use crate::catalogue::{tool, Args, Outcome, Tool};
use crate::params::{list_tool, ANY_COMPARTMENT, COMPARTMENT, INSTANCE, LIMIT};
use crate::rest::{body_of, counted, int, pick, sleep_ms, state_of, text};
use crate::{rules, OciTools};

/// The compute tools.
pub(crate) const TOOLS: &[Tool] = &[
    tool!(list_volume_attachments, list_tool!("listVolumeAttachments", "compute", "List block volume attachments in a compartment, optionally of one instance.", [ANY_COMPARTMENT, Param { name: "instanceId", kind: Kind::Ocid(Some("instance")), required: false, description: "Only this instance's", default: None, secret: false }, LIMIT])),
    tool!(list_vnic_attachments, list_tool!("listVnicAttachments", "compute", "List VNIC attachments in a compartment, optionally of one instance (use getVnic for IPs).", [ANY_COMPARTMENT, Param { name: "instanceId", kind: Kind::Ocid(Some("instance")), required: false, description: "Only this instance's", default: None, secret: false }, LIMIT])),
    tool!(get_instance_vnics, ToolSpec {
        name: "getInstanceVnics",
        category: "compute",
        description: "The network interfaces of an instance with their private and public IPs and subnets.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[COMPARTMENT, INSTANCE],
    }),
    tool!(list_instance_plugins, ToolSpec {
        name: "listInstancePlugins",
        category: "compute",
        description: "List the Oracle Cloud Agent plugins of an instance and their status (Run Command needs its plugin RUNNING).",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[COMPARTMENT, INSTANCE],
    }),
    tool!(get_instance_console_history, ToolSpec {
        name: "getInstanceConsoleHistory",
        category: "compute",
        description: "Capture and return the recent serial console output of an instance (boot messages, kernel panics). Use it when an instance does not come up.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[INSTANCE],
    }),
    tool!(start_instance, ToolSpec {
        name: "startInstance",
        category: "compute",
        description: "Start a STOPPED compute instance. Needs an approval. Explain that billing resumes once it runs.",
        risk: Risk::Confirm,
        effect: Effect::Additive,
        idempotent: true,
        params: &[INSTANCE],
    }),
    tool!(stop_instance, ToolSpec {
        name: "stopInstance",
        category: "compute",
        description: "Stop a RUNNING compute instance (graceful shutdown). Needs an approval. Warn that its workloads stop.",
        risk: Risk::Confirm,
        effect: Effect::Destructive,
        idempotent: true,
        params: &[INSTANCE],
    }),
    tool!(reboot_instance, ToolSpec {
        name: "rebootInstance",
        category: "compute",
        description: "Reboot a RUNNING compute instance (graceful). Needs an approval.",
        risk: Risk::Confirm,
        effect: Effect::Destructive,
        idempotent: false,
        params: &[INSTANCE],
    }),
    tool!(run_instance_command, ToolSpec {
        name: "runInstanceCommand",
        category: "compute",
        description: "Run a shell script on an instance through the Oracle Cloud Agent (Run Command). Needs an approval. The script is secret: it is never shown, stored or logged outside the call. Returns the command id; read its output with getCommandExecution.",
        risk: Risk::Confirm,
        effect: Effect::Destructive,
        idempotent: false,
        params: &[
            INSTANCE,
            Param { name: "script", kind: Kind::Text { max: 65_536 }, required: true, description: "The script to run", default: None, secret: true },
            Param { name: "timeoutSeconds", kind: Kind::Int { min: 1, max: 3600 }, required: false, description: "Time allowed", default: Some("60"), secret: false },
        ],
    }),
    tool!(get_command_execution, ToolSpec {
        name: "getCommandExecution",
        category: "compute",
        description: "Read the state, exit code and output of a Run Command execution on an instance.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            INSTANCE,
            Param { name: "commandId", kind: Kind::Ocid(Some("instanceagentcommand")), required: true, description: "OCID of the command", default: None, secret: false },
        ],
    }),
    tool!(terminate_instance, ToolSpec {
        name: "terminateInstance",
        category: "compute",
        description: "Terminate (permanently delete) a compute instance and, unless preserved, its boot volume. Irreversible; needs an approval by someone other than the requester.",
        risk: Risk::Danger,
        effect: Effect::Destructive,
        idempotent: true,
        params: &[
            INSTANCE,
            Param {
                name: "preserveBootVolume",
                kind: Kind::Bool,
                required: false,
                description: "Keep the boot volume",
                default: Some("false"),
                secret: false,
            },
        ],
    }),
    tool!(list_instances, ToolSpec {
        name: "listInstances",
        category: "compute",
        description: "List compute instances in a compartment with their state and shape. Present as a table: Name | State | Shape | Availability domain; point out STOPPED instances.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            ANY_COMPARTMENT,
            Param {
                name: "lifecycleState",
                kind: Kind::Enum(&["PROVISIONING", "RUNNING", "STARTING", "STOPPING", "STOPPED", "TERMINATING", "TERMINATED"]),
                required: false,
                description: "Only instances in this state",
                default: None,
                secret: false,
            },
            LIMIT,
        ],
    }),
    tool!(get_instance, ToolSpec {
        name: "getInstance",
        category: "compute",
        description: "Get one compute instance's details: state, shape, configuration, image, times.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[Param {
            name: "instanceId",
            kind: Kind::Ocid(Some("instance")),
            required: true,
            description: "OCID of the instance",
            default: None,
            secret: false,
        }],
    }),
    tool!(list_shapes, ToolSpec {
        name: "listShapes",
        category: "compute",
        description: "List the compute shapes available in a compartment (OCPUs, memory). Use it before proposing a launch.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[COMPARTMENT, LIMIT],
    }),
    tool!(list_images, ToolSpec {
        name: "listImages",
        category: "compute",
        description: "List platform and custom images in a compartment, optionally for one operating system.",
        risk: Risk::Read,
        effect: Effect::ReadOnly,
        idempotent: true,
        params: &[
            COMPARTMENT,
            Param {
                name: "operatingSystem",
                kind: Kind::Text { max: 100 },
                required: false,
                description: "e.g. Oracle Linux",
                default: None,
                secret: false,
            },
            LIMIT,
        ],
    }),
    tool!(launch_instance, ToolSpec {
        name: "launchInstance",
        category: "compute",
        description: "Launch a compute instance from an image into a subnet. Needs an approval; check the shape's availability (getResourceAvailability) and state the monthly cost first. Flex shapes take ocpus and memoryInGBs. The userData script is secret: never shown, stored or logged outside the call.",
        risk: Risk::Confirm,
        effect: Effect::Additive,
        idempotent: false,
        params: &[
            Param { name: "compartmentId", kind: Kind::Ocid(Some("compartment")), required: true, description: "OCID of the compartment", default: None, secret: false },
            Param { name: "availabilityDomain", kind: Kind::Text { max: 100 }, required: true, description: "Availability domain (see listAvailabilityDomains); the subnet's when it is AD-specific", default: None, secret: false },
            Param { name: "shape", kind: Kind::Text { max: 100 }, required: true, description: "Shape (see listShapes), e.g. VM.Standard.E4.Flex", default: None, secret: false },
            Param { name: "imageId", kind: Kind::Ocid(Some("image")), required: true, description: "OCID of the image (see listImages); its architecture must match the shape's", default: None, secret: false },
            Param { name: "subnetId", kind: Kind::Ocid(Some("subnet")), required: true, description: "OCID of the subnet for the primary VNIC", default: None, secret: false },
            Param { name: "displayName", kind: Kind::Text { max: 255 }, required: true, description: "Name", default: None, secret: false },
            Param { name: "ocpus", kind: Kind::Int { min: 1, max: 128 }, required: false, description: "OCPUs (Flex shapes only)", default: None, secret: false },
            Param { name: "memoryInGBs", kind: Kind::Int { min: 1, max: 2048 }, required: false, description: "Memory in GB (Flex shapes only)", default: None, secret: false },
            Param { name: "sshPublicKey", kind: Kind::Rule(&rules::SSH_PUBLIC_KEY), required: false, description: "OpenSSH public key allowed to log in as the image's default user", default: None, secret: false },
            Param { name: "userData", kind: Kind::Text { max: 16_384 }, required: false, description: "cloud-init script run at first boot (sent base64-encoded as metadata user_data)", default: None, secret: true },
        ],
    }),
];

impl OciTools {
    pub(crate) async fn list_instances(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::COMPUTE,
            "/instances",
            args,
            &[("lifecycleState", "lifecycleState")],
            &[
                "id",
                "displayName",
                "lifecycleState",
                "shape",
                "availabilityDomain",
                "timeCreated",
                "compartmentId",
                "faultDomain",
                "shapeConfig",
                "sourceDetails",
                "launchOptions",
                "instanceOptions",
                "platformConfig",
            ],
        )
        .await
    }

    pub(crate) async fn get_instance(&self, args: &Args) -> Outcome {
        let id = text(args, "instanceId");
        let mut instance = self
            .get(&Service::COMPUTE, &format!("/instances/{id}"))
            .await?;
        // The launch script may hold secrets (it is a writeOnly argument of
        // launchInstance); reading an instance back does not reveal it.
        if let Some(ud) = instance.pointer_mut("/metadata/user_data") {
            *ud = Value::String(portal_core::tools::REDACTED.into());
        }
        Ok(instance)
    }

    pub(crate) async fn list_shapes(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::COMPUTE,
            "/shapes",
            args,
            &[],
            &["shape", "ocpus", "memoryInGBs", "processorDescription"],
        )
        .await
    }

    pub(crate) async fn list_images(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::COMPUTE,
            "/images",
            args,
            &[("operatingSystem", "operatingSystem")],
            &[
                "id",
                "displayName",
                "operatingSystem",
                "operatingSystemVersion",
                "lifecycleState",
            ],
        )
        .await
    }

    pub(crate) async fn start_instance(&self, args: &Args) -> Outcome {
        self.instance_action(args, "START").await
    }

    pub(crate) async fn stop_instance(&self, args: &Args) -> Outcome {
        self.instance_action(args, "SOFTSTOP").await
    }

    pub(crate) async fn reboot_instance(&self, args: &Args) -> Outcome {
        self.instance_action(args, "SOFTRESET").await
    }

    /// Sends a power action to an instance.
    async fn instance_action(&self, args: &Args, action: &str) -> Outcome {
        let id = text(args, "instanceId");
        let res = self
            .send(
                Method::POST,
                &Service::COMPUTE,
                &format!("/instances/{id}"),
                &[("action", action)],
                None,
            )
            .await?;
        Ok(
            json!({"id": id, "action": action, "lifecycleState": res.body.get("lifecycleState").cloned().unwrap_or(Value::Null)}),
        )
    }

    pub(crate) async fn run_instance_command(&self, args: &Args) -> Outcome {
        let id = text(args, "instanceId");
        let instance = self
            .get(&Service::COMPUTE, &format!("/instances/{id}"))
            .await?;
        let compartment = instance
            .get("compartmentId")
            .and_then(Value::as_str)
            .ok_or("the instance has no compartment")?;
        let body = json!({
            "compartmentId": compartment,
            "executionTimeOutInSeconds": int(args, "timeoutSeconds", 60),
            "displayName": "portal run command",
            "target": {"instanceId": id},
            "content": {"source": {"sourceType": "TEXT", "text": text(args, "script")}, "output": {"outputType": "TEXT"}},
        });
        let res = self
            .post(
                &Service::INSTANCE_AGENT,
                "/instanceAgentCommands",
                Some(body),
            )
            .await?;
        Ok(json!({"commandId": res.get("id").cloned().unwrap_or(Value::Null), "instanceId": id}))
    }

    pub(crate) async fn get_command_execution(&self, args: &Args) -> Outcome {
        let id = text(args, "instanceId");
        let res = self
            .send(
                Method::GET,
                &Service::INSTANCE_AGENT,
                &format!("/instanceAgentCommands/{}/status", text(args, "commandId")),
                &[("instanceId", id)],
                None,
            )
            .await?;
        let b = res.body;
        Ok(json!({
            "lifecycleState": b.get("lifecycleState").cloned().unwrap_or(Value::Null),
            "deliveryState": b.get("deliveryState").cloned().unwrap_or(Value::Null),
            "exitCode": b.pointer("/content/exitCode").cloned().unwrap_or(Value::Null),
            "output": b.pointer("/content/text").cloned().unwrap_or(Value::Null),
        }))
    }

    pub(crate) async fn terminate_instance(&self, args: &Args) -> Outcome {
        let id = text(args, "instanceId");
        let preserve = if args
            .get("preserveBootVolume")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            "true"
        } else {
            "false"
        };
        let path = format!("/instances/{id}");
        self.send(
            Method::DELETE,
            &Service::COMPUTE,
            &path,
            &[("preserveBootVolume", preserve)],
            None,
        )
        .await?;
        let now = self.get(&Service::COMPUTE, &path).await?;
        Ok(state_of(id, &now))
    }

    pub(crate) async fn list_volume_attachments(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::COMPUTE,
            "/volumeAttachments",
            args,
            &[("instanceId", "instanceId")],
            &[
                "id",
                "instanceId",
                "volumeId",
                "attachmentType",
                "lifecycleState",
            ],
        )
        .await
    }

    pub(crate) async fn list_vnic_attachments(&self, args: &Args) -> Outcome {
        self.list_in_compartment(
            &Service::COMPUTE,
            "/vnicAttachments",
            args,
            &[("instanceId", "instanceId")],
            &["id", "instanceId", "vnicId", "subnetId", "lifecycleState"],
        )
        .await
    }

    pub(crate) async fn get_instance_vnics(&self, args: &Args) -> Outcome {
        let c = self.compartment(args);
        let id = text(args, "instanceId");
        let attachments = self
            .list(
                &Service::COMPUTE,
                "/vnicAttachments",
                &[("compartmentId", c), ("instanceId", id)],
                100,
            )
            .await?;
        let mut vnics = Vec::new();
        for a in attachments {
            if let Some(v) = a.get("vnicId").and_then(Value::as_str) {
                vnics.push(
                    self.get(&Service::VIRTUAL_NETWORK, &format!("/vnics/{v}"))
                        .await?,
                );
            }
        }
        Ok(counted(
            vnics,
            &[
                "id",
                "displayName",
                "privateIp",
                "publicIp",
                "subnetId",
                "isPrimary",
                "macAddress",
            ],
        ))
    }

    pub(crate) async fn list_instance_plugins(&self, args: &Args) -> Outcome {
        let c = self.compartment(args);
        let id = text(args, "instanceId");
        self.list_projected(
            &Service::INSTANCE_AGENT,
            &format!("/instanceagents/{id}/plugins"),
            &[("compartmentId", c)],
            1000,
            &["name", "status", "message", "timeLastUpdatedUtc"],
        )
        .await
    }

    pub(crate) async fn get_instance_console_history(&self, args: &Args) -> Outcome {
        let id = text(args, "instanceId");
        self.console_history(id).await
    }

    pub(crate) async fn launch_instance(&self, args: &Args) -> Outcome {
        self.launch(args).await
    }

    /// Captures an instance's serial console and returns its recent output.
    async fn console_history(&self, id: &str) -> Result<Value, ToolError> {
        let capture = self
            .post(
                &Service::COMPUTE,
                "/instanceConsoleHistories",
                Some(json!({"instanceId": id})),
            )
            .await?;
        let hist = capture
            .get("id")
            .and_then(Value::as_str)
            .ok_or("no console history id")?
            .to_string();
        // Capturing takes a moment; wait for it (bounded by the gateway's timeout).
        for _ in 0..60 {
            let h = self
                .get(
                    &Service::COMPUTE,
                    &format!("/instanceConsoleHistories/{hist}"),
                )
                .await?;
            match h.get("lifecycleState").and_then(Value::as_str) {
                Some("SUCCEEDED") => break,
                Some("FAILED") => return Err("the console history capture failed".into()),
                _ => sleep_ms(500).await,
            }
        }
        let res = self
            .send(
                Method::GET,
                &Service::COMPUTE,
                &format!("/instanceConsoleHistories/{hist}/data"),
                &[("length", "65536")],
                None,
            )
            .await?;
        Ok(
            json!({"instanceId": id, "consoleHistoryId": hist, "output": String::from_utf8_lossy(&res.raw)}),
        )
    }

    /// LaunchInstance from an image into a subnet, with the shape
    /// configuration, SSH key and cloud-init script given.
    async fn launch(&self, args: &Args) -> Outcome {
        let mut body = body_of(
            args,
            &[
                "compartmentId",
                "availabilityDomain",
                "shape",
                "displayName",
            ],
        );
        body.insert(
            "sourceDetails".into(),
            json!({"sourceType": "image", "imageId": text(args, "imageId")}),
        );
        body.insert(
            "createVnicDetails".into(),
            json!({"subnetId": text(args, "subnetId")}),
        );
        let shape = body_of(args, &["ocpus", "memoryInGBs"]);
        if !shape.is_empty() {
            body.insert("shapeConfig".into(), Value::Object(shape));
        }
        let mut metadata = Map::new();
        if let Some(key) = args.get("sshPublicKey") {
            metadata.insert("ssh_authorized_keys".into(), key.clone());
        }
        if let Some(script) = args.get("userData").and_then(Value::as_str) {
            metadata.insert("user_data".into(), json!(BASE64.encode(script)));
        }
        if !metadata.is_empty() {
            body.insert("metadata".into(), Value::Object(metadata));
        }
        let res = self
            .post(&Service::COMPUTE, "/instances", Some(Value::Object(body)))
            .await?;
        Ok(pick(
            &res,
            &[
                "id",
                "displayName",
                "lifecycleState",
                "shape",
                "shapeConfig",
                "availabilityDomain",
                "compartmentId",
                "timeCreated",
            ],
        ))
    }
}
