//! Core Services work requests (`oci.work_requests`, `/20160918/workRequests` on
//! the iaas host): asynchronous Compute operations answer with an
//! `opc-work-request-id` header, and the work request moves ACCEPTED →
//! IN_PROGRESS → SUCCEEDED on the same clock as the resource's lifecycle, so
//! `oci compute instance terminate --wait-for-state SUCCEEDED` works.

use serde_json::{json, Value};

use super::Ctx;
use crate::state::{WorkRequest, WorkRequestResource, MAX_WORK_REQUESTS};
use crate::wire::{self, time_value, ApiError, Millis, Reply, Req};

/// Work request statuses the emulator produces, in order.
pub const STATUSES: [&str; 3] = ["ACCEPTED", "IN_PROGRESS", "SUCCEEDED"];

/// What a work request acts on.
pub(crate) struct Target<'a> {
    /// Final `actionType` (`DELETED`, `UPDATED`, `CREATED`, `RELATED`).
    pub action: &'a str,
    /// `entityType` (`instance`, `volumeAttachment`).
    pub entity_type: &'a str,
    /// The resource's OCID.
    pub id: &'a str,
    /// Path under `/20160918` (`/instances`).
    pub collection: &'a str,
}

impl Ctx<'_> {
    /// Record a work request for `op` on `target`, finishing at `finished`
    /// (when the resource's lifecycle settles); returns its OCID for the
    /// `opc-work-request-id` header.
    pub(crate) fn work_request(
        &mut self,
        op: &str,
        compartment: &str,
        target: &Target<'_>,
        finished: Millis,
    ) -> String {
        let id = self.st.new_ocid("coreservicesworkrequest", true);
        let finished = finished.max(self.now);
        // Accepted now, picked up a quarter of the way to completion.
        let started = self.now + (finished - self.now) / 4;
        let wr = WorkRequest {
            id: id.clone(),
            operation_type: op.to_string(),
            compartment_id: compartment.to_string(),
            resources: vec![WorkRequestResource {
                action_type: target.action.to_string(),
                entity_type: target.entity_type.to_string(),
                identifier: target.id.to_string(),
                entity_uri: format!("/20160918{}/{}", target.collection, target.id),
            }],
            time_accepted: self.now,
            time_started: started,
            time_finished: finished,
        };
        self.st.work_requests.insert(id.clone(), wr);
        while self.st.work_requests.len() > MAX_WORK_REQUESTS {
            let oldest = self
                .st
                .work_requests
                .values()
                .min_by_key(|w| w.time_accepted)
                .map(|w| w.id.clone());
            match oldest {
                Some(o) => self.st.work_requests.remove(&o),
                None => break,
            };
        }
        self.dirty = true;
        id
    }
}

/// Status of `wr` at `now`.
pub fn status(wr: &WorkRequest, now: Millis) -> &'static str {
    if now >= wr.time_finished {
        STATUSES[2]
    } else if now >= wr.time_started {
        STATUSES[1]
    } else {
        STATUSES[0]
    }
}

fn percent(wr: &WorkRequest, now: Millis) -> f64 {
    match status(wr, now) {
        "SUCCEEDED" => 100.0,
        "ACCEPTED" => 0.0,
        _ => {
            let span = (wr.time_finished - wr.time_started).max(1) as f64;
            (((now - wr.time_started) as f64 / span) * 100.0).clamp(0.0, 99.0)
        }
    }
}

fn summary(wr: &WorkRequest, now: Millis) -> Value {
    let st = status(wr, now);
    let mut v = json!({
        "id": wr.id,
        "operationType": wr.operation_type,
        "status": st,
        "compartmentId": wr.compartment_id,
        "percentComplete": percent(wr, now),
        "timeAccepted": time_value(wr.time_accepted),
    });
    if st != "ACCEPTED" {
        v["timeStarted"] = time_value(wr.time_started);
    }
    if st == "SUCCEEDED" {
        v["timeFinished"] = time_value(wr.time_finished);
    }
    v
}

fn full(wr: &WorkRequest, now: Millis) -> Value {
    let done = status(wr, now) == "SUCCEEDED";
    let mut v = summary(wr, now);
    v["resources"] = wr
        .resources
        .iter()
        .map(|r| {
            json!({
                "actionType": if done { r.action_type.as_str() } else { "IN_PROGRESS" },
                "entityType": r.entity_type,
                "identifier": r.identifier,
                "entityUri": r.entity_uri,
            })
        })
        .collect();
    v
}

fn find<'a>(ctx: &'a Ctx<'_>, req: &Req<'_>) -> Result<&'a WorkRequest, ApiError> {
    let id = req.path("workRequestId");
    ctx.st
        .work_requests
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("work request {id}")))
}

/// GET /workRequests/{workRequestId}
pub(crate) fn get_work_request(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let wr = find(ctx, req)?;
    Ok(Reply::json(full(wr, ctx.now)))
}

/// GET /workRequests?compartmentId=[&resourceId=]
pub(crate) fn list_work_requests(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let compartment = ctx.compartment_param(req)?;
    let resource = req.query("resourceId");
    let mut found: Vec<&WorkRequest> = ctx
        .st
        .work_requests
        .values()
        .filter(|w| w.compartment_id == compartment)
        .filter(|w| resource.is_none_or(|r| w.resources.iter().any(|x| x.identifier == r)))
        .collect();
    found.sort_by(|a, b| b.time_accepted.cmp(&a.time_accepted).then(a.id.cmp(&b.id)));
    let items = found.into_iter().map(|w| summary(w, ctx.now)).collect();
    wire::list_reply(req, items)
}

fn sort_desc(req: &Req<'_>) -> Result<bool, ApiError> {
    Ok(req.query_enum("sortOrder", &["ASC", "DESC"])? == Some("DESC"))
}

/// GET /workRequests/{workRequestId}/errors — emulated work requests never fail.
pub(crate) fn list_work_request_errors(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    find(ctx, req)?;
    sort_desc(req)?;
    wire::list_reply(req, Vec::new())
}

/// GET /workRequests/{workRequestId}/logs
pub(crate) fn list_work_request_logs(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let wr = find(ctx, req)?;
    let now = ctx.now;
    let mut items: Vec<Value> = [
        (wr.time_accepted, format!("{} accepted", wr.operation_type)),
        (
            wr.time_started,
            format!("{} in progress", wr.operation_type),
        ),
        (wr.time_finished, format!("{} succeeded", wr.operation_type)),
    ]
    .into_iter()
    .filter(|(at, _)| *at <= now)
    .map(|(at, message)| json!({"message": message, "timestamp": time_value(at)}))
    .collect();
    if sort_desc(req)? {
        items.reverse();
    }
    wire::list_reply(req, items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wr() -> WorkRequest {
        WorkRequest {
            id: "wr".into(),
            operation_type: "TerminateInstance".into(),
            compartment_id: "c".into(),
            resources: Vec::new(),
            time_accepted: 1_000,
            time_started: 1_100,
            time_finished: 1_400,
        }
    }

    #[test]
    fn status_and_progress_follow_the_clock() {
        let w = wr();
        assert_eq!((status(&w, 1_000), percent(&w, 1_000)), ("ACCEPTED", 0.0));
        assert_eq!(status(&w, 1_099), "ACCEPTED");
        assert_eq!(
            (status(&w, 1_100), percent(&w, 1_100)),
            ("IN_PROGRESS", 0.0)
        );
        assert_eq!(percent(&w, 1_250), 50.0);
        assert_eq!(
            (status(&w, 1_400), percent(&w, 1_400)),
            ("SUCCEEDED", 100.0)
        );
        let s = summary(&w, 1_050);
        assert!(s.get("timeStarted").is_none() && s.get("timeFinished").is_none());
        let s = summary(&w, 1_500);
        assert_eq!(s["timeFinished"], "1970-01-01T00:00:01.400Z");
    }
}
