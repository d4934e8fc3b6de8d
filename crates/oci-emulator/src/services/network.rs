//! VirtualNetwork: VCNs (with their default security list and route table),
//! subnets, security lists and their rules, route tables, gateways, VNICs.

use serde_json::{json, Map, Value};

use super::{cidr, cidr_overlaps, cidr_within, ipv4_str, list_in_compartment, Ctx, SORT_TIME_NAME};
use crate::lifecycle::Lifecycle;
use crate::state::{kind, Res};
use crate::wire::{check_if_match, copy_tags, time_value, ApiError, BodyExt, Reply, Req};

const NET_STATES: &[&str] = &["PROVISIONING", "AVAILABLE", "TERMINATING", "TERMINATED"];
const VCN_STATES: &[&str] = &[
    "PROVISIONING",
    "AVAILABLE",
    "TERMINATING",
    "TERMINATED",
    "UPDATING",
];

fn list_vcn_scoped(
    ctx: &Ctx<'_>,
    req: &Req<'_>,
    k: &str,
    states: &[&str],
) -> Result<Reply, ApiError> {
    list_in_compartment(
        ctx,
        req,
        k,
        states,
        SORT_TIME_NAME,
        &[("vcnId", "vcnId"), ("displayName", "displayName")],
    )
}

/// GET /vcns
pub(crate) fn list_vcns(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_in_compartment(
        ctx,
        req,
        kind::VCN,
        VCN_STATES,
        SORT_TIME_NAME,
        &[("displayName", "displayName")],
    )
}

/// GET /vcns/{vcnId}
pub(crate) fn get_vcn(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx.get(kind::VCN, req.path("vcnId"))?.reply(ctx.now))
}

fn valid_dns_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 15
        && label.starts_with(|c: char| c.is_ascii_alphabetic())
        && label.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Default egress/ingress rules OCI puts into a VCN's default security list.
pub(crate) fn default_security_rules(vcn_cidr: &str) -> (Value, Value) {
    let ingress = json!([
        {"protocol": "6", "source": "0.0.0.0/0", "sourceType": "CIDR_BLOCK", "isStateless": false,
         "tcpOptions": {"destinationPortRange": {"min": 22, "max": 22}}},
        {"protocol": "1", "source": "0.0.0.0/0", "sourceType": "CIDR_BLOCK", "isStateless": false,
         "icmpOptions": {"type": 3, "code": 4}},
        {"protocol": "1", "source": vcn_cidr, "sourceType": "CIDR_BLOCK", "isStateless": false,
         "icmpOptions": {"type": 3}},
    ]);
    let egress = json!([
        {"protocol": "all", "destination": "0.0.0.0/0", "destinationType": "CIDR_BLOCK", "isStateless": false}
    ]);
    (ingress, egress)
}

/// Create a VCN with its default security list and route table (also used by the seed).
pub(crate) fn insert_vcn(
    ctx: &mut Ctx<'_>,
    compartment: &str,
    display: &str,
    cidr_block: &str,
    dns_label: Option<&str>,
    tags: &Map<String, Value>,
    lc: Lifecycle,
) -> Res {
    let id = ctx.st.new_ocid("vcn", true);
    let sl_id = ctx.st.new_ocid("securitylist", true);
    let rt_id = ctx.st.new_ocid("routetable", true);
    let dhcp_id = ctx.st.new_ocid("dhcpoptions", true);
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("compartmentId".into(), json!(compartment));
    m.insert("displayName".into(), json!(display));
    m.insert("cidrBlock".into(), json!(cidr_block));
    m.insert("cidrBlocks".into(), json!([cidr_block]));
    m.insert("defaultSecurityListId".into(), json!(sl_id));
    m.insert("defaultRouteTableId".into(), json!(rt_id));
    m.insert("defaultDhcpOptionsId".into(), json!(dhcp_id));
    if let Some(label) = dns_label {
        m.insert("dnsLabel".into(), json!(label));
        m.insert(
            "vcnDomainName".into(),
            json!(format!("{label}.oraclevcn.com")),
        );
    }
    m.insert("ipv6CidrBlocks".into(), json!([]));
    m.insert("timeCreated".into(), time_value(ctx.now));
    for (k, v) in tags {
        m.insert(k.clone(), v.clone());
    }
    let vcn = Res::new(m, lc.clone());
    let (ingress, egress) = default_security_rules(cidr_block);
    let sl = json!({
        "id": sl_id, "compartmentId": compartment, "vcnId": id,
        "displayName": format!("Default Security List for {display}"),
        "ingressSecurityRules": ingress, "egressSecurityRules": egress,
        "timeCreated": time_value(ctx.now), "freeformTags": {}, "definedTags": {},
    });
    let rt = json!({
        "id": rt_id, "compartmentId": compartment, "vcnId": id,
        "displayName": format!("Default Route Table for {display}"),
        "routeRules": [], "timeCreated": time_value(ctx.now), "freeformTags": {}, "definedTags": {},
    });
    ctx.st.insert(kind::VCN, vcn.clone());
    ctx.st.insert(
        kind::SECURITY_LIST,
        Res::new(sl.as_object().cloned().unwrap_or_default(), lc.clone()),
    );
    ctx.st.insert(
        kind::ROUTE_TABLE,
        Res::new(rt.as_object().cloned().unwrap_or_default(), lc),
    );
    vcn
}

/// POST /vcns
pub(crate) fn create_vcn(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let body = req.json()?;
    let compartment = body.req_str("compartmentId")?;
    ctx.require_compartment(&compartment)?;
    let cidr_block = match body.opt_str("cidrBlock")? {
        Some(c) => c,
        None => body
            .opt_arr("cidrBlocks")?
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ApiError::missing("cidrBlock"))?,
    };
    let (_, len) = cidr(&cidr_block).ok_or_else(|| {
        ApiError::invalid(format!(
            "cidrBlock `{cidr_block}` is not a valid IPv4 CIDR block"
        ))
    })?;
    if !(16..=30).contains(&len) {
        return Err(ApiError::invalid(format!(
            "cidrBlock `{cidr_block}` must have a prefix length between /16 and /30"
        )));
    }
    let dns_label = body.opt_str("dnsLabel")?;
    if let Some(l) = &dns_label {
        if !valid_dns_label(l) {
            return Err(ApiError::invalid(format!(
                "dnsLabel `{l}` must be 1-15 alphanumeric characters starting with a letter"
            )));
        }
    }
    let display = body
        .opt_str("displayName")?
        .unwrap_or_else(|| format!("vcn{}", ctx.now / 1000));
    let mut tags = Map::new();
    copy_tags(&body, &mut tags)?;
    let lc = Lifecycle::path(&["PROVISIONING", "AVAILABLE"], ctx.now, ctx.delay);
    let vcn = insert_vcn(
        ctx,
        &compartment,
        &display,
        &cidr_block,
        dns_label.as_deref(),
        &tags,
        lc,
    );
    ctx.audit(
        &compartment,
        "VirtualNetworkApi.CreateVcn",
        &vcn,
        &format!("VCN {display} created with {cidr_block}"),
    );
    Ok(vcn.reply(ctx.now))
}

fn live(ctx: &Ctx<'_>, r: &Res) -> bool {
    !matches!(r.state(ctx.now), Some("TERMINATED" | "TERMINATING"))
}

/// DELETE /vcns/{vcnId}
pub(crate) fn delete_vcn(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let id = req.path("vcnId").to_string();
    let now = ctx.now;
    let vcn = ctx.get(kind::VCN, &id)?.clone();
    check_if_match(req.headers, &vcn.render(now))?;
    if !live(ctx, &vcn) {
        return Ok(Reply::no_content());
    }
    if vcn.state(now) != Some("AVAILABLE") {
        return Err(ApiError::incorrect_state(format!(
            "VCN {id} is not AVAILABLE"
        )));
    }
    let default_sl = vcn.str("defaultSecurityListId").unwrap_or("");
    let default_rt = vcn.str("defaultRouteTableId").unwrap_or("");
    let mut dependents = Vec::new();
    for k in [
        kind::SUBNET,
        kind::INTERNET_GATEWAY,
        kind::NAT_GATEWAY,
        kind::SECURITY_LIST,
        kind::ROUTE_TABLE,
    ] {
        for r in ctx.st.all(k) {
            if r.str("vcnId") == Some(id.as_str())
                && live(ctx, r)
                && r.id() != default_sl
                && r.id() != default_rt
            {
                dependents.push(format!("{k} {}", r.id()));
            }
        }
    }
    if !dependents.is_empty() {
        return Err(ApiError::conflict(format!(
            "VCN {id} still has dependent resources: {}",
            dependents.join(", ")
        )));
    }
    let delay = ctx.delay;
    for (k, rid) in [
        (kind::VCN, id.as_str()),
        (kind::SECURITY_LIST, default_sl),
        (kind::ROUTE_TABLE, default_rt),
    ] {
        if let Some(r) = ctx.st.get_mut(k, rid) {
            r.lc.transition(&["TERMINATING", "TERMINATED"], now, delay);
        }
    }
    let compartment = vcn.str("compartmentId").unwrap_or("").to_string();
    ctx.audit(
        &compartment,
        "VirtualNetworkApi.DeleteVcn",
        &vcn,
        "VCN deleted",
    );
    Ok(Reply::no_content())
}

/// GET /subnets
pub(crate) fn list_subnets(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_vcn_scoped(ctx, req, kind::SUBNET, VCN_STATES)
}

/// GET /subnets/{subnetId}
pub(crate) fn get_subnet(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx.get(kind::SUBNET, req.path("subnetId"))?.reply(ctx.now))
}

/// Build a subnet body (also used by the seed).
#[allow(clippy::too_many_arguments)]
pub(crate) fn subnet_body(
    ctx: &mut Ctx<'_>,
    vcn: &Res,
    compartment: &str,
    display: &str,
    cidr_block: &str,
    ad: Option<&str>,
    dns_label: Option<&str>,
    route_table: &str,
    security_lists: &[String],
    prohibit_public: bool,
) -> Map<String, Value> {
    let id = ctx.st.new_ocid("subnet", true);
    let router = cidr(cidr_block)
        .map(|(n, _)| ipv4_str(n + 1))
        .unwrap_or_default();
    let h = crate::state::hash_str(ctx.st.meta.seed, &id);
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("compartmentId".into(), json!(compartment));
    m.insert("vcnId".into(), json!(vcn.id()));
    m.insert("displayName".into(), json!(display));
    m.insert("cidrBlock".into(), json!(cidr_block));
    m.insert("ipv4CidrBlocks".into(), json!([cidr_block]));
    if let Some(ad) = ad {
        m.insert("availabilityDomain".into(), json!(ad));
    }
    if let Some(label) = dns_label {
        m.insert("dnsLabel".into(), json!(label));
        if let Some(vcn_domain) = vcn.str("vcnDomainName") {
            m.insert(
                "subnetDomainName".into(),
                json!(format!("{label}.{vcn_domain}")),
            );
        }
    }
    m.insert("routeTableId".into(), json!(route_table));
    m.insert("securityListIds".into(), json!(security_lists));
    if let Some(d) = vcn.str("defaultDhcpOptionsId") {
        m.insert("dhcpOptionsId".into(), json!(d));
    }
    m.insert("prohibitPublicIpOnVnic".into(), json!(prohibit_public));
    m.insert("prohibitInternetIngress".into(), json!(prohibit_public));
    m.insert("virtualRouterIp".into(), json!(router));
    m.insert(
        "virtualRouterMac".into(),
        json!(format!(
            "00:00:17:{:02X}:{:02X}:{:02X}",
            h & 255,
            (h >> 8) & 255,
            (h >> 16) & 255
        )),
    );
    m.insert("timeCreated".into(), time_value(ctx.now));
    m
}

/// POST /subnets
pub(crate) fn create_subnet(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let body = req.json()?;
    let compartment = body.req_str("compartmentId")?;
    let vcn_id = body.req_str("vcnId")?;
    let cidr_block = body.req_str("cidrBlock")?;
    ctx.require_compartment(&compartment)?;
    let vcn = ctx
        .st
        .get(kind::VCN, &vcn_id)
        .ok_or_else(|| ApiError::not_found(format!("vcn {vcn_id}")))?
        .clone();
    if vcn.state(ctx.now) != Some("AVAILABLE") {
        return Err(ApiError::incorrect_state(format!(
            "VCN {vcn_id} is not AVAILABLE"
        )));
    }
    let sub = cidr(&cidr_block).ok_or_else(|| {
        ApiError::invalid(format!(
            "cidrBlock `{cidr_block}` is not a valid IPv4 CIDR block"
        ))
    })?;
    if sub.1 > 30 {
        return Err(ApiError::invalid("cidrBlock must be /30 or larger"));
    }
    let vcn_cidrs: Vec<(u32, u32)> = vcn
        .body
        .get("cidrBlocks")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter_map(cidr)
                .collect()
        })
        .unwrap_or_default();
    if !vcn_cidrs.iter().any(|c| cidr_within(sub, *c)) {
        return Err(ApiError::invalid(format!(
            "cidrBlock {cidr_block} is not within the VCN's CIDR blocks"
        )));
    }
    for s in ctx.st.all(kind::SUBNET) {
        if s.str("vcnId") == Some(vcn_id.as_str()) && live(ctx, s) {
            if let Some(other) = s.str("cidrBlock").and_then(cidr) {
                if cidr_overlaps(sub, other) {
                    return Err(ApiError::invalid(format!(
                        "cidrBlock {cidr_block} overlaps subnet {} ({})",
                        s.id(),
                        s.str("cidrBlock").unwrap_or("")
                    )));
                }
            }
        }
    }
    let ad = body.opt_str("availabilityDomain")?;
    if let Some(a) = &ad {
        if !super::availability_domains(&ctx.region()).contains(a) {
            return Err(ApiError::invalid(format!(
                "Unknown availabilityDomain `{a}`"
            )));
        }
    }
    let dns_label = body.opt_str("dnsLabel")?;
    if let Some(l) = &dns_label {
        if !valid_dns_label(l) {
            return Err(ApiError::invalid(format!(
                "dnsLabel `{l}` must be 1-15 alphanumeric characters starting with a letter"
            )));
        }
    }
    let route_table = match body.opt_str("routeTableId")? {
        Some(rt) => {
            let r = ctx.get(kind::ROUTE_TABLE, &rt)?;
            if r.str("vcnId") != Some(vcn_id.as_str()) {
                return Err(ApiError::invalid(format!(
                    "Route table {rt} belongs to another VCN"
                )));
            }
            rt
        }
        None => vcn.str("defaultRouteTableId").unwrap_or("").to_string(),
    };
    let security_lists: Vec<String> = match body.opt_arr("securityListIds")? {
        Some(arr) => {
            let mut out = Vec::new();
            for v in arr {
                let sl = v
                    .as_str()
                    .ok_or_else(|| ApiError::invalid("securityListIds must be strings"))?;
                let r = ctx.get(kind::SECURITY_LIST, sl)?;
                if r.str("vcnId") != Some(vcn_id.as_str()) {
                    return Err(ApiError::invalid(format!(
                        "Security list {sl} belongs to another VCN"
                    )));
                }
                out.push(sl.to_string());
            }
            out
        }
        None => vec![vcn.str("defaultSecurityListId").unwrap_or("").to_string()],
    };
    let prohibit = body.opt_bool("prohibitPublicIpOnVnic")?.unwrap_or(false);
    let display = body
        .opt_str("displayName")?
        .unwrap_or_else(|| format!("subnet{}", ctx.now / 1000));
    let mut m = subnet_body(
        ctx,
        &vcn,
        &compartment,
        &display,
        &cidr_block,
        ad.as_deref(),
        dns_label.as_deref(),
        &route_table,
        &security_lists,
        prohibit,
    );
    copy_tags(&body, &mut m)?;
    let res = Res::new(
        m,
        Lifecycle::path(&["PROVISIONING", "AVAILABLE"], ctx.now, ctx.delay),
    );
    ctx.st.insert(kind::SUBNET, res.clone());
    ctx.audit(
        &compartment,
        "VirtualNetworkApi.CreateSubnet",
        &res,
        &format!("Subnet {display} created with {cidr_block}"),
    );
    Ok(res.reply(ctx.now))
}

/// DELETE /subnets/{subnetId}
pub(crate) fn delete_subnet(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let id = req.path("subnetId").to_string();
    let now = ctx.now;
    let subnet = ctx.get(kind::SUBNET, &id)?.clone();
    check_if_match(req.headers, &subnet.render(now))?;
    if !live(ctx, &subnet) {
        return Ok(Reply::no_content());
    }
    let vnics: Vec<String> = ctx
        .st
        .all(kind::VNIC)
        .filter(|v| v.str("subnetId") == Some(id.as_str()) && live(ctx, v))
        .map(|v| v.id().to_string())
        .collect();
    if !vnics.is_empty() {
        return Err(ApiError::conflict(format!(
            "Subnet {id} still has VNICs attached: {}",
            vnics.join(", ")
        )));
    }
    let delay = ctx.delay;
    ctx.get_mut(kind::SUBNET, &id)?
        .lc
        .transition(&["TERMINATING", "TERMINATED"], now, delay);
    let compartment = subnet.str("compartmentId").unwrap_or("").to_string();
    ctx.audit(
        &compartment,
        "VirtualNetworkApi.DeleteSubnet",
        &subnet,
        "Subnet deleted",
    );
    Ok(Reply::no_content())
}

/// GET /securityLists
pub(crate) fn list_security_lists(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_vcn_scoped(ctx, req, kind::SECURITY_LIST, NET_STATES)
}

/// GET /securityLists/{securityListId}
pub(crate) fn get_security_list(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx
        .get(kind::SECURITY_LIST, req.path("securityListId"))?
        .reply(ctx.now))
}

const PROTOCOLS: &[&str] = &["all", "1", "6", "17", "58"];

fn validate_port_range(v: &Value, path: &str) -> Result<(), ApiError> {
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::invalid(format!("{path} must be an object")))?;
    let min = obj
        .opt_i64("min")?
        .ok_or_else(|| ApiError::missing(&format!("{path}.min")))?;
    let max = obj
        .opt_i64("max")?
        .ok_or_else(|| ApiError::missing(&format!("{path}.max")))?;
    if !(1..=65535).contains(&min) || !(1..=65535).contains(&max) || min > max {
        return Err(ApiError::invalid(format!(
            "{path} must satisfy 1 <= min <= max <= 65535 (got {min}-{max})"
        )));
    }
    Ok(())
}

fn validate_rules(rules: &[Value], field: &str, peer: &str) -> Result<(), ApiError> {
    for (i, rule) in rules.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let r = rule
            .as_object()
            .ok_or_else(|| ApiError::invalid(format!("{path} must be an object")))?;
        let protocol = r
            .opt_str("protocol")?
            .ok_or_else(|| ApiError::missing(&format!("{path}.protocol")))?;
        if !PROTOCOLS.contains(&protocol.as_str()) {
            return Err(ApiError::invalid(format!(
                "{path}.protocol must be one of {} (got `{protocol}`)",
                PROTOCOLS.join(", ")
            )));
        }
        let target = r
            .opt_str(peer)?
            .ok_or_else(|| ApiError::missing(&format!("{path}.{peer}")))?;
        let type_field = format!("{peer}Type");
        let is_service = r.opt_str(&type_field)?.as_deref() == Some("SERVICE_CIDR_BLOCK");
        if !is_service && cidr(&target).is_none() {
            return Err(ApiError::invalid(format!(
                "{path}.{peer} `{target}` is not a valid CIDR block"
            )));
        }
        for opt in ["tcpOptions", "udpOptions"] {
            if let Some(o) = r.opt_obj(opt)? {
                for range in ["destinationPortRange", "sourcePortRange"] {
                    if let Some(pr) = o.get(range) {
                        validate_port_range(pr, &format!("{path}.{opt}.{range}"))?;
                    }
                }
            }
        }
        if let Some(icmp) = r.opt_obj("icmpOptions")? {
            if icmp.opt_i64("type")?.is_none() {
                return Err(ApiError::missing(&format!("{path}.icmpOptions.type")));
            }
        }
    }
    Ok(())
}

/// PUT /securityLists/{securityListId}
pub(crate) fn update_security_list(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let id = req.path("securityListId").to_string();
    let body = req.json()?;
    let now = ctx.now;
    let current = ctx.get(kind::SECURITY_LIST, &id)?;
    check_if_match(req.headers, &current.render(now))?;
    if current.state(now) != Some("AVAILABLE") {
        return Err(ApiError::incorrect_state(format!(
            "Security list {id} is not AVAILABLE"
        )));
    }
    let ingress = body.opt_arr("ingressSecurityRules")?.cloned();
    let egress = body.opt_arr("egressSecurityRules")?.cloned();
    if let Some(r) = &ingress {
        validate_rules(r, "ingressSecurityRules", "source")?;
    }
    if let Some(r) = &egress {
        validate_rules(r, "egressSecurityRules", "destination")?;
    }
    let display = body.opt_str("displayName")?;
    let freeform = body.opt_obj("freeformTags")?.cloned();
    let defined = body.opt_obj("definedTags")?.cloned();
    let sl = ctx.get_mut(kind::SECURITY_LIST, &id)?;
    if let Some(r) = ingress {
        sl.body
            .insert("ingressSecurityRules".into(), Value::Array(r));
    }
    if let Some(r) = egress {
        sl.body
            .insert("egressSecurityRules".into(), Value::Array(r));
    }
    if let Some(d) = display {
        sl.body.insert("displayName".into(), json!(d));
    }
    if let Some(t) = freeform {
        sl.body.insert("freeformTags".into(), Value::Object(t));
    }
    if let Some(t) = defined {
        sl.body.insert("definedTags".into(), Value::Object(t));
    }
    let res = sl.clone();
    let compartment = res.str("compartmentId").unwrap_or("").to_string();
    ctx.audit(
        &compartment,
        "VirtualNetworkApi.UpdateSecurityList",
        &res,
        "Security list rules updated",
    );
    Ok(res.reply(now))
}

/// GET /routeTables
pub(crate) fn list_route_tables(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_vcn_scoped(ctx, req, kind::ROUTE_TABLE, NET_STATES)
}

/// GET /routeTables/{rtId}
pub(crate) fn get_route_table(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx.get(kind::ROUTE_TABLE, req.path("rtId"))?.reply(ctx.now))
}

/// GET /internetGateways
pub(crate) fn list_internet_gateways(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_vcn_scoped(ctx, req, kind::INTERNET_GATEWAY, NET_STATES)
}

/// GET /natGateways
pub(crate) fn list_nat_gateways(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    list_vcn_scoped(ctx, req, kind::NAT_GATEWAY, NET_STATES)
}

/// GET /vnics/{vnicId}
pub(crate) fn get_vnic(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    Ok(ctx.get(kind::VNIC, req.path("vnicId"))?.reply(ctx.now))
}
