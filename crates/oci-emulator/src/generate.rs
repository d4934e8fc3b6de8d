//! A generated tenancy of a given size on top of the demo one, for
//! benchmarks (`portal oci-emulator --generate N`): cells of one VCN with
//! its default security list and a second one (every other cell's open to
//! the internet on port 22), two subnets, one running instance with its VNIC
//! (and its attachment), two block volumes, one attached — eleven resources,
//! nine of them graph nodes. The service limits allow about 550 generated
//! instances (E4 and E5 cores over the three ADs); every list the graph reads
//! stays within its 1,000 items up to 500 cells. Made with the same
//! operation handlers clients call, in memory, before the state is first
//! written.

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::lifecycle::Lifecycle;
use crate::seed::{call, id_of};
use crate::services::{self, availability_domains, compute, Ctx};
use crate::state::{kind, Res, State};
use crate::wire::{time_value, Millis};
use crate::EmulatorError;

/// Resources per cell (attachments included).
pub const PER_CELL: usize = 11;
/// Compartments the cells are spread over.
const COMPARTMENTS: usize = 10;

/// Adds `resources / PER_CELL` cells to `st` (created a day before `now`).
pub(crate) fn grow(
    st: &mut State,
    now: Millis,
    blob_dir: &Path,
    resources: usize,
) -> Result<(), EmulatorError> {
    let cells = resources / PER_CELL;
    if cells == 0 {
        return Ok(());
    }
    let at = now - 86_400_000;
    let region = st.meta.region.clone();
    let image = st
        .all(kind::IMAGE)
        .next()
        .map(|i| i.id().to_string())
        .unwrap_or_default();
    let mut ctx = Ctx {
        st,
        now,
        delay: 0,
        blob_dir,
        dirty: false,
    };
    let tenancy = ctx.tenancy();
    let ads = availability_domains(&region);
    let mut compartments = Vec::new();
    for c in 0..COMPARTMENTS.min(cells) {
        let id = ctx.st.new_ocid("compartment", false);
        let body = json!({
            "id": id, "compartmentId": tenancy, "name": format!("gen-{c:02}"),
            "description": "Generated for benchmarks", "timeCreated": time_value(at),
            "isAccessible": true, "freeformTags": {}, "definedTags": {},
        });
        let body: Map<String, Value> = body.as_object().cloned().unwrap_or_default();
        ctx.st.insert(
            kind::COMPARTMENT,
            Res::new(body, Lifecycle::fixed("ACTIVE", at)),
        );
        compartments.push(id);
    }
    for cell in 0..cells {
        let comp = &compartments[cell % compartments.len()];
        let (hi, lo) = (16 + cell / 256, cell % 256);
        let name = format!("gen-{cell:04}");
        let vcn = call(
            &mut ctx,
            at,
            "generated vcn",
            services::network::create_vcn,
            &[],
            &[],
            Some(
                json!({"compartmentId": comp, "displayName": format!("{name}-vcn"), "cidrBlock": format!("10.{hi}.{lo}.0/24")}),
            ),
        )?;
        let vcn_id = id_of(&vcn);
        let default_sl = vcn
            .get("defaultSecurityListId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let extra_sl = ctx.st.new_ocid("securitylist", true);
        let source = if cell.is_multiple_of(2) {
            "0.0.0.0/0"
        } else {
            "10.0.0.0/8"
        };
        let sl = json!({
            "id": extra_sl, "compartmentId": comp, "vcnId": vcn_id, "displayName": format!("{name}-ssh"),
            "ingressSecurityRules": [{"protocol": "6", "source": source, "sourceType": "CIDR_BLOCK", "isStateless": false,
                "tcpOptions": {"destinationPortRange": {"min": 22, "max": 22}}}],
            "egressSecurityRules": [], "timeCreated": time_value(at), "freeformTags": {}, "definedTags": {},
        });
        let sl: Map<String, Value> = sl.as_object().cloned().unwrap_or_default();
        ctx.st.insert(
            kind::SECURITY_LIST,
            Res::new(sl, Lifecycle::fixed("AVAILABLE", at)),
        );
        let mut subnets = Vec::new();
        for half in 0..2 {
            subnets.push(id_of(&call(
                &mut ctx,
                at,
                "generated subnet",
                services::network::create_subnet,
                &[],
                &[],
                Some(json!({"compartmentId": comp, "vcnId": vcn_id, "displayName": format!("{name}-sn{half}"),
                    "cidrBlock": format!("10.{hi}.{lo}.{}/25", half * 128),
                    "securityListIds": [default_sl, extra_sl]})),
            )?));
        }
        let ad = ads
            .get(cell % ads.len().max(1))
            .cloned()
            .unwrap_or_default();
        let shape = if (cell / ads.len().max(1)).is_multiple_of(2) {
            "VM.Standard.E4.Flex"
        } else {
            "VM.Standard.E5.Flex"
        };
        let inst = id_of(&call(
            &mut ctx,
            at,
            "generated instance",
            compute::launch_instance,
            &[],
            &[],
            Some(
                json!({"compartmentId": comp, "availabilityDomain": ad, "displayName": format!("{name}-vm"),
                "shape": shape, "shapeConfig": {"ocpus": 1, "memoryInGBs": 16},
                "sourceDetails": {"sourceType": "image", "imageId": image},
                "createVnicDetails": {"subnetId": subnets[0]}}),
            ),
        )?);
        for half in 0..2 {
            let vol = id_of(&call(
                &mut ctx,
                at,
                "generated volume",
                services::blockstorage::create_volume,
                &[],
                &[],
                Some(
                    json!({"compartmentId": comp, "availabilityDomain": ad, "displayName": format!("{name}-vol{half}"), "sizeInGBs": 50}),
                ),
            )?);
            if half == 0 {
                call(
                    &mut ctx,
                    at,
                    "generated attachment",
                    compute::attach_volume,
                    &[],
                    &[],
                    Some(json!({"type": "paravirtualized", "instanceId": inst, "volumeId": vol})),
                )?;
            }
        }
    }
    Ok(())
}
