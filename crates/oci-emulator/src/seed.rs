//! The deterministic demo tenancy created on first start.
//!
//! Resources are created through the same operation handlers clients use
//! (LaunchInstance, CreateVcn, AttachVolume, InstanceAction STOP, ...), with the
//! clock set back to each resource's creation time, so the seeded state is
//! exactly what those calls would have produced: lifecycle histories, audit log
//! entries, IP allocation and attachments included. Structure and OCIDs depend
//! only on [`SEED`]; timestamps are relative to the seeding time so there are a
//! few weeks of history (usage, metrics, logs) behind the resources.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use http::HeaderMap;
use serde_json::{json, Map, Value};

use crate::catalog;
use crate::lifecycle::Lifecycle;
use crate::routes::Handler;
use crate::services::{self, availability_domains, compute, Ctx};
use crate::state::{hash_str, kind, Res, State, STATE_VERSION};
use crate::wire::{self, time_value, Millis, ReplyBody, Req};
use crate::EmulatorError;

/// The tenancy seed: every OCID and generated series derives from it.
pub const SEED: u64 = 0x5EED_0C1E_2024_0601;

const DAY: Millis = 86_400_000;
const HOUR: Millis = 3_600_000;

fn seed_err(what: &str, e: wire::ApiError) -> EmulatorError {
    EmulatorError::InvalidConfig(format!("seeding {what} failed: {} {}", e.code, e.message))
}

/// Call an operation handler with a JSON body at time `at`; returns the JSON reply.
pub(crate) fn call(
    ctx: &mut Ctx<'_>,
    at: Millis,
    what: &str,
    handler: Handler,
    params: &[(&'static str, &str)],
    query: &[(&str, &str)],
    body: Option<Value>,
) -> Result<Value, EmulatorError> {
    let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let headers = HeaderMap::new();
    let req = Req {
        params: params.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
        query: query
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
        headers: &headers,
        body: &bytes,
    };
    ctx.now = at;
    let reply = handler(ctx, &req).map_err(|e| seed_err(what, e))?;
    Ok(match reply.body {
        ReplyBody::Json(v) => v,
        _ => Value::Null,
    })
}

pub(crate) fn id_of(v: &Value) -> String {
    v.get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn body_of(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// (bucket name, compartment, created, objects as (name, text)).
type SeedBucket<'a> = (&'a str, &'a str, Millis, Vec<(&'a str, String)>);

/// (repository name, compartment, public, created, images).
type SeedRepo<'a> = (&'a str, &'a str, bool, Millis, &'a [SeedImage<'a>]);

/// (version, or `None` for an untagged image; layers; MiB; pushed).
type SeedImage<'a> = (Option<&'a str>, i64, i64, Millis);

/// Build the demo tenancy.
pub(crate) fn seed(region: &str, now: Millis, blob_dir: &Path) -> Result<State, EmulatorError> {
    let mut st = State {
        version: STATE_VERSION,
        ..State::default()
    };
    st.meta.seed = SEED;
    st.meta.seeded_at = now;
    st.meta.region = region.to_string();
    st.meta.tenancy_name = "portal-demo".to_string();
    st.meta.tenancy_id = st.new_ocid("tenancy", false);
    st.meta.demo_user_id = st.new_ocid("user", false);
    st.meta.namespace = format!("emu{:010x}", hash_str(SEED, "namespace") & 0xff_ffff_ffff);
    let d = |days: i64| now - days * DAY;
    let mut ctx = Ctx {
        st: &mut st,
        now,
        delay: 0,
        blob_dir,
        dirty: false,
    };
    let tenancy = ctx.tenancy();
    let ads = availability_domains(region);
    let ad = |i: usize| ads.get(i).cloned().unwrap_or_default();

    // ---- Identity
    let compartment = |ctx: &mut Ctx<'_>, parent: &str, name: &str, desc: &str, created: Millis| {
        let id = ctx.st.new_ocid("compartment", false);
        let body = json!({
            "id": id, "compartmentId": parent, "name": name, "description": desc,
            "timeCreated": time_value(created), "isAccessible": true,
            "freeformTags": {}, "definedTags": {},
        });
        ctx.st.insert(
            kind::COMPARTMENT,
            Res::new(body_of(body), Lifecycle::fixed("ACTIVE", created)),
        );
        id
    };
    let production = compartment(
        &mut ctx,
        &tenancy,
        "Production",
        "Production workloads",
        d(80),
    );
    let prod_apps = compartment(
        &mut ctx,
        &production,
        "prod-apps",
        "Production application tier",
        d(60),
    );
    let development = compartment(
        &mut ctx,
        &tenancy,
        "Development",
        "Development and test",
        d(70),
    );
    let sandbox = compartment(
        &mut ctx,
        &tenancy,
        "Sandbox",
        "Short-lived experiments",
        d(20),
    );

    let users = [
        (
            ctx.st.meta.demo_user_id.clone(),
            "portal-demo",
            "Portal demo user (API key of the emulator config)",
            "portal-demo@example.com",
            d(90),
        ),
        (
            ctx.st.new_ocid("user", false),
            "alice",
            "Alice Admin",
            "alice@example.com",
            d(85),
        ),
        (
            ctx.st.new_ocid("user", false),
            "bob",
            "Bob Developer",
            "bob@example.com",
            d(40),
        ),
    ];
    for (i, (id, name, desc, email, created)) in users.iter().enumerate() {
        let mut body = json!({
            "id": id, "compartmentId": tenancy, "name": name, "description": desc, "email": email,
            "emailVerified": true, "timeCreated": time_value(*created), "isMfaActivated": i == 1,
            "lastSuccessfulLoginTime": time_value(now - (i as i64 + 1) * 5 * HOUR),
            "capabilities": {"canUseConsolePassword": true, "canUseApiKeys": true, "canUseAuthTokens": true,
                "canUseSmtpCredentials": true, "canUseCustomerSecretKeys": true, "canUseDbCredentials": true},
            "freeformTags": {}, "definedTags": {},
        });
        if let Some(o) = body.as_object_mut() {
            match i {
                // The emulator config's API-key user signs in with its key only: the
                // advisor's MFA check must not count it (a known false positive).
                0 => {
                    o.insert("capabilities".into(), json!({"canUseConsolePassword": false, "canUseApiKeys": true,
                        "canUseAuthTokens": false, "canUseSmtpCredentials": false, "canUseCustomerSecretKeys": false, "canUseDbCredentials": false}));
                }
                // Bob was created without an email address (CIS 1.13's seeded case).
                2 => {
                    o.remove("email");
                    o.insert("emailVerified".into(), json!(false));
                }
                _ => {}
            }
        }
        ctx.st.insert(
            kind::USER,
            Res::new(body_of(body), Lifecycle::fixed("ACTIVE", *created)),
        );
    }
    for (name, desc, created) in [
        ("Administrators", "Tenancy administrators", d(90)),
        ("NetworkAdmins", "Manage networking", d(80)),
        ("Developers", "Application developers", d(70)),
    ] {
        let id = ctx.st.new_ocid("group", false);
        let body = json!({
            "id": id, "compartmentId": tenancy, "name": name, "description": desc,
            "timeCreated": time_value(created), "freeformTags": {}, "definedTags": {},
        });
        ctx.st.insert(
            kind::GROUP,
            Res::new(body_of(body), Lifecycle::fixed("ACTIVE", created)),
        );
    }
    for (comp, name, desc, statements, created) in [
        (
            &tenancy,
            "Tenant Admin Policy",
            "Administrators manage everything",
            vec!["ALLOW GROUP Administrators to manage all-resources IN TENANCY"],
            d(90),
        ),
        (
            &tenancy,
            "network-admins",
            "Network administration",
            vec!["Allow group NetworkAdmins to manage virtual-network-family in tenancy"],
            d(80),
        ),
        (
            &development,
            "dev-policy",
            "Developers in Development",
            vec![
                "Allow group Developers to manage instance-family in compartment Development",
                "Allow group Developers to use virtual-network-family in compartment Development",
                // Too broad (CIS 1.2): the advisor's seeded case.
                "Allow group Developers to manage all-resources in compartment Development",
            ],
            d(70),
        ),
    ] {
        call(
            &mut ctx,
            created,
            "policy",
            services::identity::create_policy,
            &[],
            &[],
            Some(
                json!({"compartmentId": comp, "name": name, "description": desc, "statements": statements}),
            ),
        )?;
    }

    // ---- Platform images (listed in every compartment)
    let mut images = Vec::new();
    for (name, os, version, _arch, size_mb, age) in catalog::PLATFORM_IMAGES {
        let id = ctx.st.new_ocid("image", true);
        let body = json!({
            "id": id, "compartmentId": tenancy, "displayName": name, "operatingSystem": os,
            "operatingSystemVersion": version, "createImageAllowed": true, "launchMode": "PARAVIRTUALIZED",
            "sizeInMBs": size_mb, "billableSizeInGBs": size_mb / 1024 / 4, "listingType": "NONE",
            "timeCreated": time_value(d(*age)), "freeformTags": {}, "definedTags": {},
            "launchOptions": {"bootVolumeType": "PARAVIRTUALIZED", "firmware": "UEFI_64", "networkType": "PARAVIRTUALIZED", "remoteDataVolumeType": "PARAVIRTUALIZED", "isPvEncryptionInTransitEnabled": true, "isConsistentVolumeNamingEnabled": true},
        });
        ctx.st.insert(
            kind::IMAGE,
            Res::new(body_of(body), Lifecycle::fixed("AVAILABLE", d(*age))),
        );
        images.push(id);
    }
    let img = |i: usize| images.get(i).cloned().unwrap_or_default();

    // ---- Networking
    let prod_vcn = call(
        &mut ctx,
        d(75),
        "prod-vcn",
        services::network::create_vcn,
        &[],
        &[],
        Some(
            json!({"compartmentId": production, "displayName": "prod-vcn", "cidrBlock": "10.0.0.0/16", "dnsLabel": "prodvcn", "freeformTags": {"env": "prod"}}),
        ),
    )?;
    let dev_vcn = call(
        &mut ctx,
        d(68),
        "dev-vcn",
        services::network::create_vcn,
        &[],
        &[],
        Some(
            json!({"compartmentId": development, "displayName": "dev-vcn", "cidrBlock": "10.1.0.0/16", "dnsLabel": "devvcn", "freeformTags": {"env": "dev"}}),
        ),
    )?;
    let gateways = |ctx: &mut Ctx<'_>,
                    vcn: &Value,
                    comp: &str,
                    prefix: &str,
                    created: Millis,
                    nat: bool|
     -> (String, Option<String>) {
        let vcn_id = id_of(vcn);
        let igw = ctx.st.new_ocid("internetgateway", true);
        ctx.st.insert(kind::INTERNET_GATEWAY, Res::new(body_of(json!({
            "id": igw, "compartmentId": comp, "vcnId": vcn_id, "displayName": format!("{prefix}-igw"),
            "isEnabled": true, "timeCreated": time_value(created), "freeformTags": {}, "definedTags": {},
        })), Lifecycle::fixed("AVAILABLE", created)));
        let natgw = nat.then(|| {
            let id = ctx.st.new_ocid("natgateway", true);
            let h = hash_str(SEED, &id);
            ctx.st.insert(kind::NAT_GATEWAY, Res::new(body_of(json!({
                "id": id, "compartmentId": comp, "vcnId": vcn_id, "displayName": format!("{prefix}-nat"),
                "blockTraffic": false, "natIp": format!("150.136.{}.{}", h % 250, 1 + (h >> 8) % 250),
                "timeCreated": time_value(created), "freeformTags": {}, "definedTags": {},
            })), Lifecycle::fixed("AVAILABLE", created)));
            id
        });
        // Default route table: everything to the internet gateway.
        let rt = vcn
            .get("defaultRouteTableId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some(r) = ctx.st.get_mut(kind::ROUTE_TABLE, &rt) {
            r.body.insert("routeRules".into(), json!([{
                "destination": "0.0.0.0/0", "destinationType": "CIDR_BLOCK", "networkEntityId": igw,
                "description": "Internet access", "routeType": "STATIC",
            }]));
        }
        (igw, natgw)
    };
    let (_prod_igw, prod_nat) = gateways(&mut ctx, &prod_vcn, &production, "prod", d(75), true);
    let (_dev_igw, _) = gateways(&mut ctx, &dev_vcn, &development, "dev", d(68), false);
    // Private route table through the NAT gateway, and a web security list.
    let prod_vcn_id = id_of(&prod_vcn);
    let private_rt = ctx.st.new_ocid("routetable", true);
    ctx.st.insert(kind::ROUTE_TABLE, Res::new(body_of(json!({
        "id": private_rt, "compartmentId": production, "vcnId": prod_vcn_id, "displayName": "prod-private-rt",
        "routeRules": [{"destination": "0.0.0.0/0", "destinationType": "CIDR_BLOCK", "networkEntityId": prod_nat, "description": "Outbound through NAT", "routeType": "STATIC"}],
        "timeCreated": time_value(d(74)), "freeformTags": {}, "definedTags": {},
    })), Lifecycle::fixed("AVAILABLE", d(74))));
    let web_sl = ctx.st.new_ocid("securitylist", true);
    ctx.st.insert(kind::SECURITY_LIST, Res::new(body_of(json!({
        "id": web_sl, "compartmentId": production, "vcnId": prod_vcn_id, "displayName": "prod-web-sl",
        "ingressSecurityRules": [
            {"protocol": "6", "source": "0.0.0.0/0", "sourceType": "CIDR_BLOCK", "isStateless": false, "tcpOptions": {"destinationPortRange": {"min": 443, "max": 443}}, "description": "HTTPS"},
            {"protocol": "6", "source": "0.0.0.0/0", "sourceType": "CIDR_BLOCK", "isStateless": false, "tcpOptions": {"destinationPortRange": {"min": 80, "max": 80}}, "description": "HTTP"},
        ],
        "egressSecurityRules": [{"protocol": "all", "destination": "0.0.0.0/0", "destinationType": "CIDR_BLOCK", "isStateless": false}],
        "timeCreated": time_value(d(74)), "freeformTags": {}, "definedTags": {},
    })), Lifecycle::fixed("AVAILABLE", d(74))));
    let prod_default_sl = prod_vcn
        .get("defaultSecurityListId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let prod_public = id_of(&call(
        &mut ctx,
        d(74),
        "prod-public",
        services::network::create_subnet,
        &[],
        &[],
        Some(
            json!({"compartmentId": production, "vcnId": prod_vcn_id, "displayName": "prod-public", "cidrBlock": "10.0.0.0/24", "dnsLabel": "pub", "securityListIds": [prod_default_sl, web_sl]}),
        ),
    )?);
    let prod_private = id_of(&call(
        &mut ctx,
        d(74),
        "prod-private",
        services::network::create_subnet,
        &[],
        &[],
        Some(
            json!({"compartmentId": production, "vcnId": prod_vcn_id, "displayName": "prod-private", "cidrBlock": "10.0.1.0/24", "dnsLabel": "priv", "prohibitPublicIpOnVnic": true, "routeTableId": private_rt}),
        ),
    )?);
    let dev_public = id_of(&call(
        &mut ctx,
        d(67),
        "dev-public",
        services::network::create_subnet,
        &[],
        &[],
        Some(
            json!({"compartmentId": development, "vcnId": id_of(&dev_vcn), "displayName": "dev-public", "cidrBlock": "10.1.0.0/24", "dnsLabel": "pub"}),
        ),
    )?);

    // ---- Compute
    struct Spec<'a> {
        name: &'a str,
        comp: &'a str,
        shape: &'a str,
        cfg: Option<(f64, f64)>,
        image: usize,
        subnet: &'a str,
        ad: usize,
        created: Millis,
        tags: Value,
    }
    let specs = [
        Spec {
            name: "web-01",
            comp: &production,
            shape: "VM.Standard.E4.Flex",
            cfg: Some((2.0, 32.0)),
            image: 0,
            subnet: &prod_public,
            ad: 0,
            created: d(54),
            tags: json!({"env": "prod", "tier": "web"}),
        },
        Spec {
            name: "web-02",
            comp: &production,
            shape: "VM.Standard.E4.Flex",
            cfg: Some((2.0, 32.0)),
            image: 0,
            subnet: &prod_public,
            ad: 1,
            created: d(54),
            tags: json!({"env": "prod", "tier": "web"}),
        },
        Spec {
            name: "app-server-01",
            comp: &prod_apps,
            shape: "VM.Standard.A1.Flex",
            cfg: Some((4.0, 24.0)),
            image: 1,
            subnet: &prod_private,
            ad: 0,
            created: d(45),
            tags: json!({"env": "prod", "tier": "app"}),
        },
        Spec {
            name: "dev-box",
            comp: &development,
            shape: "VM.Standard.E5.Flex",
            cfg: Some((1.0, 12.0)),
            image: 3,
            subnet: &dev_public,
            ad: 0,
            created: d(30),
            tags: json!({"env": "dev", "owner": "bob"}),
        },
        Spec {
            name: "build-runner",
            comp: &development,
            shape: "VM.Standard2.1",
            cfg: None,
            image: 2,
            subnet: &dev_public,
            ad: 1,
            created: d(25),
            tags: json!({"env": "dev", "tier": "ci", "workload": "idle"}),
        },
        Spec {
            name: "old-test",
            comp: &sandbox,
            shape: "VM.Standard.E2.1.Micro",
            cfg: None,
            image: 0,
            subnet: &dev_public,
            ad: 0,
            created: d(10),
            tags: json!({"env": "sandbox"}),
        },
    ];
    let mut instances = Vec::new();
    for s in &specs {
        let mut body = json!({
            "compartmentId": s.comp, "availabilityDomain": ad(s.ad), "displayName": s.name, "shape": s.shape,
            "sourceDetails": {"sourceType": "image", "imageId": img(s.image)},
            "createVnicDetails": {"subnetId": s.subnet, "hostnameLabel": s.name.replace('-', "")},
            "metadata": {"ssh_authorized_keys": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDemoKeyForTheEmulatorOnly demo@portal"},
            "freeformTags": s.tags,
        });
        // The web tier is hardened (Shielded, IMDSv2 only); the rest is not.
        if let (true, Some(o)) = (s.name.starts_with("web-"), body.as_object_mut()) {
            o.insert("platformConfig".into(), json!({"type": "AMD_VM", "isSecureBootEnabled": true, "isMeasuredBootEnabled": true}));
            o.insert(
                "instanceOptions".into(),
                json!({"areLegacyImdsEndpointsDisabled": true}),
            );
        }
        if let (Some((ocpus, mem)), Some(o)) = (s.cfg, body.as_object_mut()) {
            o.insert(
                "shapeConfig".into(),
                json!({"ocpus": ocpus, "memoryInGBs": mem}),
            );
        }
        let inst = call(
            &mut ctx,
            s.created,
            s.name,
            compute::launch_instance,
            &[],
            &[],
            Some(body),
        )?;
        instances.push(id_of(&inst));
    }
    let inst = |i: usize| instances.get(i).cloned().unwrap_or_default();
    call(
        &mut ctx,
        d(3),
        "stop dev-box",
        compute::instance_action,
        &[("instanceId", &inst(3))],
        &[("action", "STOP")],
        None,
    )?;
    call(
        &mut ctx,
        now - 2 * HOUR,
        "terminate old-test",
        compute::terminate_instance,
        &[("instanceId", &inst(5))],
        &[],
        None,
    )?;

    // ---- Block storage
    let vol = |ctx: &mut Ctx<'_>,
               at: Millis,
               comp: &str,
               ad_name: String,
               name: &str,
               size: i64| {
        call(
            ctx,
            at,
            name,
            services::blockstorage::create_volume,
            &[],
            &[],
            Some(
                json!({"compartmentId": comp, "availabilityDomain": ad_name, "displayName": name, "sizeInGBs": size, "vpusPerGB": 10}),
            ),
        )
    };
    let data01 = id_of(&vol(
        &mut ctx,
        d(53),
        &production,
        ad(0),
        "prod-data-01",
        500,
    )?);
    let logs_vol = id_of(&vol(&mut ctx, d(44), &prod_apps, ad(0), "prod-logs", 200)?);
    let scratch = id_of(&vol(
        &mut ctx,
        d(28),
        &development,
        ad(0),
        "dev-scratch",
        100,
    )?);
    call(
        &mut ctx,
        d(53),
        "attach prod-data-01",
        compute::attach_volume,
        &[],
        &[],
        Some(
            json!({"type": "paravirtualized", "instanceId": inst(0), "volumeId": data01, "displayName": "web-01-data"}),
        ),
    )?;
    call(
        &mut ctx,
        d(44),
        "attach prod-logs",
        compute::attach_volume,
        &[],
        &[],
        Some(
            json!({"type": "iscsi", "instanceId": inst(2), "volumeId": logs_vol, "displayName": "app-logs"}),
        ),
    )?;
    for (at, vid, name, ty) in [
        (d(40), &data01, "prod-data-01-full", "FULL"),
        (d(6), &data01, "prod-data-01-incr", "INCREMENTAL"),
        (d(9), &scratch, "dev-scratch-full", "FULL"),
    ] {
        call(
            &mut ctx,
            at,
            name,
            services::blockstorage::create_volume_backup,
            &[],
            &[],
            Some(json!({"volumeId": vid, "displayName": name, "type": ty})),
        )?;
    }

    // ---- Object Storage
    let ns = ctx.st.meta.namespace.clone();
    let buckets: [SeedBucket<'_>; 3] = [
        ("prod-assets", &production, d(70), vec![
            ("index.html", "<!doctype html><title>Demo shop</title><h1>Welcome to the demo shop</h1>\n".to_string()),
            ("css/site.css", "body { font-family: sans-serif; margin: 2rem; }\n".to_string()),
            ("img/logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"32\" height=\"32\"><circle cx=\"16\" cy=\"16\" r=\"14\" fill=\"#c74634\"/></svg>\n".to_string()),
            ("releases/v1.0.0/notes.txt", "Release 1.0.0\n- first public release\n".to_string()),
            ("README.md", "# prod-assets\nStatic assets served by the web tier.\n".to_string()),
        ]),
        ("app-logs", &prod_apps, d(44), vec![
            ("logs/app-server-01/app.log.1", "INFO app started (build 1)\nWARN slow query 1200ms\n".to_string()),
            ("logs/app-server-01/app.log.2", "INFO app started (build 2)\nINFO 1532 requests served\n".to_string()),
            ("logs/app-server-01/app.log.3", "INFO app started (build 3)\nERROR payment gateway timeout\n".to_string()),
        ]),
        ("dev-artifacts", &development, d(27), vec![
            ("build/app-0.1.0.txt", "artifact app-0.1.0 (placeholder build output)\n".to_string()),
            ("build/app-0.2.0.txt", "artifact app-0.2.0 (placeholder build output)\n".to_string()),
        ]),
    ];
    for (name, comp, created, objects) in buckets {
        call(
            &mut ctx,
            created,
            name,
            services::objectstorage::create_bucket,
            &[("namespaceName", &ns)],
            &[],
            // The shop's static assets are served straight from a public bucket.
            Some(
                json!({"name": name, "compartmentId": comp, "freeformTags": {"seeded": "true"},
                "publicAccessType": if name == "prod-assets" { "ObjectRead" } else { "NoPublicAccess" }}),
            ),
        )?;
        let bucket_id = ctx
            .st
            .all(kind::BUCKET)
            .find(|b| b.str("name") == Some(name))
            .map(|b| b.id().to_string())
            .unwrap_or_default();
        for (i, (obj, text)) in objects.into_iter().enumerate() {
            let at = created + (i as i64 + 1) * HOUR;
            let ct = if obj.ends_with(".html") {
                "text/html"
            } else if obj.ends_with(".css") {
                "text/css"
            } else if obj.ends_with(".svg") {
                "image/svg+xml"
            } else {
                "text/plain"
            };
            let meta = services::objectstorage::object_meta(
                blob_dir,
                obj,
                text.as_bytes(),
                ct,
                BTreeMap::new(),
                "Standard",
                at,
                None,
            )
            .map_err(|e| seed_err("object", e))?;
            ctx.st
                .objects
                .entry(bucket_id.clone())
                .or_default()
                .insert(obj.to_string(), meta);
        }
    }

    // ---- Autonomous Databases
    call(
        &mut ctx,
        d(50),
        "salesdb",
        services::database::create_autonomous_database,
        &[],
        &[],
        Some(
            json!({"compartmentId": production, "dbName": "SALESDB", "displayName": "salesdb", "dbWorkload": "OLTP", "computeModel": "ECPU", "computeCount": 2, "dataStorageSizeInTBs": 1, "adminPassword": "Demo-Passw0rd-1", "freeformTags": {"env": "prod"}}),
        ),
    )?;
    let dw = call(
        &mut ctx,
        d(40),
        "analyticsdw",
        services::database::create_autonomous_database,
        &[],
        &[],
        Some(
            json!({"compartmentId": development, "dbName": "ANALYTICSDW", "displayName": "analytics-dw", "dbWorkload": "DW", "computeModel": "ECPU", "computeCount": 4, "dataStorageSizeInTBs": 1, "adminPassword": "Demo-Passw0rd-2", "freeformTags": {"env": "dev"}}),
        ),
    )?;
    call(
        &mut ctx,
        d(5),
        "stop analytics-dw",
        services::database::stop_autonomous_database,
        &[("autonomousDatabaseId", &id_of(&dw))],
        &[],
        None,
    )?;

    // ---- Load balancer in front of the web tier
    let web_ips: Vec<String> = [inst(0), inst(1)]
        .iter()
        .filter_map(|i| {
            let att = ctx
                .st
                .all(kind::VNIC_ATTACHMENT)
                .find(|a| a.str("instanceId") == Some(i.as_str()))?;
            let vnic = ctx.st.get(kind::VNIC, att.str("vnicId")?)?;
            vnic.str("privateIp").map(str::to_string)
        })
        .collect();
    let lb_id = ctx.st.new_ocid("loadbalancer", true);
    let backends: Vec<Value> = web_ips
        .iter()
        .map(|ip| json!({"name": format!("{ip}:80"), "ipAddress": ip, "port": 80, "weight": 1, "drain": false, "backup": false, "offline": false}))
        .collect();
    let lb = json!({
        "id": lb_id, "compartmentId": production, "displayName": "prod-lb", "shapeName": "flexible",
        "shapeDetails": {"minimumBandwidthInMbps": 10, "maximumBandwidthInMbps": 100},
        "isPrivate": false, "ipAddresses": [{"ipAddress": format!("129.213.{}.{}", hash_str(SEED, "lb") % 250, 10), "isPublic": true}],
        "subnetIds": [prod_public], "networkSecurityGroupIds": [], "isDeleteProtectionEnabled": false,
        "isRequestIdEnabled": false, "ipMode": "IPV4",
        "listeners": {"http": {"name": "http", "defaultBackendSetName": "web-backends", "port": 80, "protocol": "HTTP", "hostnameNames": [], "ruleSetNames": []}},
        "backendSets": {"web-backends": {"name": "web-backends", "policy": "ROUND_ROBIN", "backends": backends,
            "healthChecker": {"protocol": "HTTP", "urlPath": "/healthz", "port": 80, "returnCode": 200, "retries": 3, "timeoutInMillis": 3000, "intervalInMillis": 10000, "responseBodyRegex": ".*"}}},
        "hostnames": {}, "certificates": {}, "pathRouteSets": {}, "ruleSets": {}, "routingPolicies": {}, "sslCipherSuites": {},
        "timeCreated": time_value(d(52)), "freeformTags": {"env": "prod"}, "definedTags": {},
    });
    ctx.st.insert(
        kind::LOAD_BALANCER,
        Res::new(
            body_of(lb),
            Lifecycle::path(&["CREATING", "ACTIVE"], d(52), 5 * 60_000),
        ),
    );

    // ---- Alarms
    let topic = ctx.st.new_ocid("onstopic", true);
    for (comp, metric_comp, name, ns, query, severity, created) in [
        (
            &production,
            &production,
            "prod-high-cpu",
            "oci_computeagent",
            "CpuUtilization[5m].max() > 75",
            "CRITICAL",
            d(50),
        ),
        (
            &production,
            &production,
            "prod-memory-pressure",
            "oci_computeagent",
            "MemoryUtilization[5m].mean() > 85",
            "WARNING",
            d(50),
        ),
        (
            &production,
            &production,
            "salesdb-cpu",
            "oci_autonomous_database",
            "CpuUtilization[5m].mean() > 90",
            "ERROR",
            d(45),
        ),
        (
            &development,
            &development,
            "dev-idle-instances",
            "oci_computeagent",
            "CpuUtilization[1h].mean() < 15",
            "INFO",
            d(20),
        ),
    ] {
        let id = ctx.st.new_ocid("alarm", true);
        let body = json!({
            "id": id, "displayName": name, "compartmentId": comp, "metricCompartmentId": metric_comp,
            "metricCompartmentIdInSubtree": true, "namespace": ns, "query": query, "resolution": "1m",
            "pendingDuration": "PT5M", "severity": severity, "body": format!("Alarm {name} fired: {query}"),
            "isNotificationsPerMetricDimensionEnabled": false, "messageFormat": "RAW", "destinations": [topic],
            "repeatNotificationDuration": "PT4H", "isEnabled": true, "ruleName": "BASE",
            "timeCreated": time_value(created), "timeUpdated": time_value(created), "freeformTags": {}, "definedTags": {},
        });
        ctx.st.insert(
            kind::ALARM,
            Res::new(body_of(body), Lifecycle::fixed("ACTIVE", created)),
        );
    }

    // ---- Quotas
    let quota_id = ctx.st.new_ocid("quota", false);
    ctx.st.insert(kind::QUOTA, Res::new(body_of(json!({
        "id": quota_id, "compartmentId": tenancy, "name": "dev-compute-quota",
        "description": "Cap compute cores in Development",
        "statements": [
            "set compute-core quota standard-e4-core-count to 16 in compartment Development",
            "set compute-core quota standard-e5-core-count to 8 in compartment Development",
        ],
        "timeCreated": time_value(d(60)), "freeformTags": {}, "definedTags": {},
    })), Lifecycle::fixed("ACTIVE", d(60))));

    // ---- Container Registry: repositories and the images pushed to them
    let repos: [SeedRepo<'_>; 3] = [
        (
            "shop/web",
            &production,
            false,
            d(65),
            &[
                (Some("1.0.0"), 7, 96, d(60)),
                (Some("1.1.0"), 7, 101, d(12)),
            ],
        ),
        (
            "shop/api",
            &production,
            false,
            d(64),
            &[(Some("2.3.1"), 9, 182, d(30)), (None, 9, 180, d(31))],
        ),
        (
            "tools/ci-runner",
            &development,
            true,
            d(33),
            &[(Some("0.4.0"), 5, 64, d(8))],
        ),
    ];
    for (name, comp, public, created, images) in repos {
        let repo_id = ctx.st.new_ocid("containerrepo", true);
        let mib: i64 = images.iter().map(|i| i.2).sum();
        ctx.st.insert(kind::CONTAINER_REPOSITORY, Res::new(body_of(json!({
            "id": repo_id, "compartmentId": comp, "displayName": name, "namespace": ns, "isPublic": public,
            "imageCount": images.len(), "layerCount": images.iter().map(|i| i.1).sum::<i64>(),
            "layersSizeInBytes": mib * 1024 * 1024, "billableSizeInGBs": (mib + 1023) / 1024,
            "timeCreated": time_value(created), "freeformTags": {}, "definedTags": {}, "systemTags": {},
        })), Lifecycle::fixed("AVAILABLE", created)));
        for (version, _, _, pushed) in images {
            let id = ctx.st.new_ocid("containerimage", true);
            let digest = format!("sha256:{}", wire::hex_digest(id.as_bytes()));
            let mut image = json!({
                "id": id, "compartmentId": comp, "repositoryId": repo_id, "repositoryName": name,
                "digest": digest, "timeCreated": time_value(*pushed),
                "freeformTags": {}, "definedTags": {}, "systemTags": {},
            });
            image["displayName"] = match version {
                Some(v) => {
                    image["version"] = json!(v);
                    json!(format!("{name}:{v}"))
                }
                None => json!(format!("{name}@{}", digest.get(..19).unwrap_or(&digest))),
            };
            ctx.st.insert(
                kind::CONTAINER_IMAGE,
                Res::new(body_of(image), Lifecycle::fixed("AVAILABLE", *pushed)),
            );
        }
    }

    // Syslog-style entries of running instances are derived on demand (see
    // `crate::logs`); only the audit entries of the calls above are stored.
    st.logs.sort_by_key(|l| l.datetime);
    Ok(st)
}
