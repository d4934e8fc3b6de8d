//! Object Storage: namespace, buckets and objects. Object bytes live in
//! content-addressed blob files (`objects/<sha256>`) next to `state.json`; the
//! state keeps only their metadata.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::Ctx;
use crate::lifecycle::Lifecycle;
use crate::state::{kind, ObjectMeta, Res};
use crate::wire::{
    self, check_if_match_etag, time_value, ApiError, BodyExt, Reply, ReplyBody, Req,
};

fn bucket_not_found(ns: &str, name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "BucketNotFound",
        format!("Either the bucket named '{name}' does not exist in the namespace '{ns}' or you are not authorized to access it"),
    )
}

fn object_not_found(bucket: &str, name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ObjectNotFound",
        format!("The object '{name}' was not found in the bucket '{bucket}'"),
    )
}

pub(crate) fn check_namespace(ctx: &Ctx<'_>, ns: &str) -> Result<(), ApiError> {
    if ns == ctx.st.meta.namespace {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NamespaceNotFound",
            format!("You do not have authorization to perform this request, or the requested namespace '{ns}' does not exist"),
        ))
    }
}

/// Find a bucket by namespace and name.
pub(crate) fn find_bucket<'a>(ctx: &'a Ctx<'_>, req: &Req<'_>) -> Result<&'a Res, ApiError> {
    let ns = req.path("namespaceName");
    let name = req.path("bucketName");
    check_namespace(ctx, ns)?;
    ctx.st
        .all(kind::BUCKET)
        .find(|b| b.str("name") == Some(name))
        .ok_or_else(|| bucket_not_found(ns, name))
}

pub(crate) fn new_etag() -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..),
        fastrand::u16(..),
        fastrand::u64(..) & 0xffff_ffff_ffff
    )
}

/// GET /n
pub(crate) fn get_namespace(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    if let Some(c) = req.query("compartmentId") {
        ctx.require_compartment(c)?;
    }
    Ok(Reply::json(Value::String(ctx.st.meta.namespace.clone())))
}

fn valid_bucket_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

const BUCKET_SUMMARY_FIELDS: &[&str] = &[
    "namespace",
    "name",
    "compartmentId",
    "createdBy",
    "timeCreated",
    "etag",
    "freeformTags",
    "definedTags",
];

/// GET /n/{ns}/b
pub(crate) fn list_buckets(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    check_namespace(ctx, req.path("namespaceName"))?;
    let compartment = ctx.compartment_param(req)?;
    if let Some(f) = req.query("fields") {
        if f != "tags" {
            return Err(ApiError::invalid(format!(
                "`fields` may only be `tags`, got `{f}`"
            )));
        }
    }
    let mut items: Vec<Value> = ctx
        .st
        .all(kind::BUCKET)
        .filter(|b| b.str("compartmentId") == Some(compartment.as_str()))
        .map(|b| {
            let summary: Map<String, Value> = b
                .body
                .iter()
                .filter(|(k, _)| BUCKET_SUMMARY_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Value::Object(summary)
        })
        .collect();
    items.sort_by(|a, b| {
        a.get("name")
            .and_then(Value::as_str)
            .cmp(&b.get("name").and_then(Value::as_str))
    });
    wire::list_reply(req, items)
}

/// A bucket body (also used by the seed).
pub(crate) fn bucket_body(
    ctx: &mut Ctx<'_>,
    name: &str,
    compartment: &str,
    public_access: &str,
    storage_tier: &str,
    versioning: &str,
) -> Map<String, Value> {
    let id = ctx.st.new_ocid("bucket", true);
    let v = json!({
        "id": id,
        "namespace": ctx.st.meta.namespace,
        "name": name,
        "compartmentId": compartment,
        "metadata": {},
        "createdBy": ctx.st.meta.demo_user_id,
        "timeCreated": time_value(ctx.now),
        "etag": new_etag(),
        "publicAccessType": public_access,
        "storageTier": storage_tier,
        "objectEventsEnabled": false,
        "replicationEnabled": false,
        "isReadOnly": false,
        "versioning": versioning,
        "autoTiering": "Disabled",
        "freeformTags": {},
        "definedTags": {},
    });
    v.as_object().cloned().unwrap_or_default()
}

/// POST /n/{ns}/b
pub(crate) fn create_bucket(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    check_namespace(ctx, req.path("namespaceName"))?;
    let body = req.json()?;
    let name = body.req_str("name")?;
    let compartment = body.req_str("compartmentId")?;
    if !valid_bucket_name(&name) {
        return Err(ApiError::invalid(format!(
            "Bucket name `{name}` is invalid: use 1-256 letters, digits, '-', '_' or '.'"
        )));
    }
    ctx.require_compartment(&compartment)?;
    if ctx
        .st
        .all(kind::BUCKET)
        .any(|b| b.str("name") == Some(name.as_str()))
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "BucketAlreadyExists",
            format!("Either the bucket '{name}' in namespace '{}' already exists or you are not authorized to create it", ctx.st.meta.namespace),
        ));
    }
    let access = body
        .opt_enum(
            "publicAccessType",
            &["NoPublicAccess", "ObjectRead", "ObjectReadWithoutList"],
        )?
        .unwrap_or_else(|| "NoPublicAccess".into());
    let tier = body
        .opt_enum("storageTier", &["Standard", "Archive"])?
        .unwrap_or_else(|| "Standard".into());
    let versioning = body
        .opt_enum("versioning", &["Enabled", "Disabled"])?
        .unwrap_or_else(|| "Disabled".into());
    let mut m = bucket_body(ctx, &name, &compartment, &access, &tier, &versioning);
    if let Some(md) = body.opt_obj("metadata")? {
        m.insert("metadata".into(), Value::Object(md.clone()));
    }
    if let Some(e) = body.opt_bool("objectEventsEnabled")? {
        m.insert("objectEventsEnabled".into(), json!(e));
    }
    wire::copy_tags(&body, &mut m)?;
    let res = Res::new(m, Lifecycle::default());
    ctx.st.insert(kind::BUCKET, res.clone());
    ctx.audit(
        &compartment,
        "ObjectStorage.CreateBucket",
        &res,
        &format!("Bucket {name} created"),
    );
    let etag = res.str("etag").unwrap_or("").to_string();
    Ok(Reply::json(res.render(ctx.now))
        .header("etag", etag)
        .header("location", format!("/n/{}/b/{name}", ctx.st.meta.namespace)))
}

fn bucket_json(ctx: &Ctx<'_>, bucket: &Res, fields: Option<&str>) -> Result<Value, ApiError> {
    let mut v = bucket.render(ctx.now);
    if let Some(fields) = fields {
        let objects = ctx.st.objects.get(bucket.id());
        for f in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            match f {
                "approximateCount" => {
                    v["approximateCount"] = json!(objects.map_or(0, |o| o.len()));
                }
                "approximateSize" => {
                    v["approximateSize"] = json!(objects.map_or(0, |o| o.values().map(|m| m.size).sum::<u64>()));
                }
                "autoTiering" => {}
                other => {
                    return Err(ApiError::invalid(format!(
                        "`fields` values must be approximateCount, approximateSize or autoTiering, got `{other}`"
                    )))
                }
            }
        }
    }
    Ok(v)
}

/// GET /n/{ns}/b/{bucket}
pub(crate) fn get_bucket(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let bucket = find_bucket(ctx, req)?;
    let etag = bucket.str("etag").unwrap_or("").to_string();
    check_if_match_etag(req.headers, &etag)?;
    if req
        .header("if-none-match")
        .is_some_and(|v| v.trim_matches('"') == etag || v == "*")
    {
        return Ok(Reply::no_content()
            .status(StatusCode::NOT_MODIFIED)
            .header("etag", etag));
    }
    let v = bucket_json(ctx, bucket, req.query("fields"))?;
    Ok(Reply::json(v).header("etag", etag))
}

/// HEAD /n/{ns}/b/{bucket}
pub(crate) fn head_bucket(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let bucket = find_bucket(ctx, req)?;
    let etag = bucket.str("etag").unwrap_or("").to_string();
    check_if_match_etag(req.headers, &etag)?;
    Ok(Reply::no_content()
        .status(StatusCode::OK)
        .header("etag", etag))
}

/// DELETE /n/{ns}/b/{bucket}
pub(crate) fn delete_bucket(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let bucket = find_bucket(ctx, req)?.clone();
    check_if_match_etag(req.headers, bucket.str("etag").unwrap_or(""))?;
    if ctx
        .st
        .objects
        .get(bucket.id())
        .is_some_and(|o| !o.is_empty())
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "BucketNotEmpty",
            format!(
                "Bucket named '{}' is not empty. Delete all objects first.",
                bucket.str("name").unwrap_or("")
            ),
        ));
    }
    if ctx.st.uploads.values().any(|u| u.bucket_id == bucket.id()) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "BucketNotEmpty",
            format!(
                "Bucket named '{}' has multipart uploads in progress. Commit or abort them first.",
                bucket.str("name").unwrap_or("")
            ),
        ));
    }
    ctx.st.remove(kind::BUCKET, bucket.id());
    ctx.st.objects.remove(bucket.id());
    let compartment = bucket.str("compartmentId").unwrap_or("").to_string();
    ctx.audit(
        &compartment,
        "ObjectStorage.DeleteBucket",
        &bucket,
        "Bucket deleted",
    );
    Ok(Reply::no_content())
}

const OBJECT_FIELDS: &[&str] = &[
    "name",
    "size",
    "etag",
    "timeCreated",
    "md5",
    "timeModified",
    "storageTier",
    "archivalState",
];

fn object_summary(o: &ObjectMeta, fields: &[&str]) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(o.name));
    for f in fields {
        match *f {
            "size" => {
                m.insert("size".into(), json!(o.size));
            }
            "etag" => {
                m.insert("etag".into(), json!(o.etag));
            }
            "md5" => {
                m.insert(
                    "md5".into(),
                    json!(o.multipart_md5.as_ref().unwrap_or(&o.md5)),
                );
            }
            "timeCreated" => {
                m.insert("timeCreated".into(), time_value(o.time_created));
            }
            "timeModified" => {
                m.insert("timeModified".into(), time_value(o.time_modified));
            }
            "storageTier" => {
                m.insert("storageTier".into(), json!(o.storage_tier));
            }
            _ => {}
        }
    }
    Value::Object(m)
}

/// GET /n/{ns}/b/{bucket}/o
pub(crate) fn list_objects(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let bucket = find_bucket(ctx, req)?;
    let limit = wire::parse_limit(req, 1000)?;
    let delimiter = req.query("delimiter");
    if delimiter.is_some_and(|d| d != "/") {
        return Err(ApiError::invalid("Only '/' is supported as a delimiter"));
    }
    let fields: Vec<&str> = match req.query("fields") {
        Some(f) => {
            let list: Vec<&str> = f
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if let Some(bad) = list.iter().find(|f| !OBJECT_FIELDS.contains(f)) {
                return Err(ApiError::invalid(format!(
                    "`fields` values must be among {}, got `{bad}`",
                    OBJECT_FIELDS.join(", ")
                )));
            }
            list
        }
        None => Vec::new(),
    };
    let prefix = req.query("prefix").unwrap_or("");
    let start = req.query("start");
    let end = req.query("end");
    let start_after = req.query("startAfter");
    let empty = Default::default();
    let objects = ctx.st.objects.get(bucket.id()).unwrap_or(&empty);
    let mut out = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut next = None;
    let mut count = 0usize;
    for (name, meta) in objects.iter() {
        if !name.starts_with(prefix)
            || start.is_some_and(|s| name.as_str() < s)
            || start_after.is_some_and(|s| name.as_str() <= s)
            || end.is_some_and(|e| name.as_str() >= e)
        {
            continue;
        }
        let rolled = delimiter.and_then(|d| {
            name[prefix.len()..]
                .find(d)
                .map(|i| name[..prefix.len() + i + d.len()].to_string())
        });
        if let Some(p) = &rolled {
            if prefixes.last() == Some(p) {
                continue;
            }
        }
        if count == limit {
            next = Some(name.clone());
            break;
        }
        count += 1;
        match rolled {
            Some(p) => prefixes.push(p),
            None => out.push(object_summary(meta, &fields)),
        }
    }
    let mut body = json!({ "objects": out });
    if delimiter.is_some() {
        body["prefixes"] = json!(prefixes);
    }
    if let Some(n) = next {
        body["nextStartWith"] = json!(n);
    }
    Ok(Reply::json(body))
}

pub(crate) fn blob_path(dir: &Path, sha: &str) -> std::path::PathBuf {
    dir.join(sha)
}

/// Store bytes as a content-addressed blob; returns (sha256 hex, base64 md5).
pub(crate) fn store_blob(dir: &Path, data: &[u8]) -> Result<String, ApiError> {
    let sha = wire::hex_digest(data);
    let path = blob_path(dir, &sha);
    if !path.exists() {
        crate::state::write_atomic(&path, data)
            .map_err(|e| ApiError::internal(format!("cannot store object data: {e}")))?;
    }
    Ok(sha)
}

/// Base64 MD5 of the content (`content-md5`, `opc-content-md5`).
pub(crate) fn md5_base64(data: &[u8]) -> String {
    use md5::Digest;
    STANDARD.encode(md5::Md5::digest(data))
}

/// Build object metadata for new content (also used by the seed).
#[allow(clippy::too_many_arguments)] // all are plain object attributes
pub(crate) fn object_meta(
    dir: &Path,
    name: &str,
    data: &[u8],
    content_type: &str,
    metadata: std::collections::BTreeMap<String, String>,
    storage_tier: &str,
    now: i64,
    created: Option<i64>,
) -> Result<ObjectMeta, ApiError> {
    let sha = store_blob(dir, data)?;
    Ok(ObjectMeta {
        name: name.to_string(),
        size: data.len() as u64,
        md5: md5_base64(data),
        sha256: sha,
        etag: new_etag(),
        content_type: content_type.to_string(),
        metadata,
        time_created: created.unwrap_or(now),
        time_modified: now,
        storage_tier: storage_tier.to_string(),
        multipart_md5: None,
    })
}

pub(crate) fn check_object_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.len() > 1024 {
        return Err(ApiError::invalid("Object names must be 1-1024 bytes long"));
    }
    Ok(())
}

/// PUT /n/{ns}/b/{bucket}/o/{object}
pub(crate) fn put_object(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let bucket = find_bucket(ctx, req)?.clone();
    let name = req.path("objectName").to_string();
    check_object_name(&name)?;
    let existing = ctx
        .st
        .objects
        .get(bucket.id())
        .and_then(|o| o.get(&name))
        .cloned();
    if let Some(inm) = req.header("if-none-match") {
        if inm.trim() == "*" && existing.is_some() {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "IfNoneMatchFailed",
                format!("The object '{name}' already exists"),
            ));
        }
    }
    if req.header("if-match").is_some() {
        match &existing {
            Some(o) => check_if_match_etag(req.headers, &o.etag)?,
            None => {
                return Err(ApiError::precondition_failed(format!(
                    "The object '{name}' does not exist, so if-match cannot match"
                )))
            }
        }
    }
    let data: &Bytes = req.body;
    let md5 = md5_base64(data);
    if let Some(claimed) = req.header("content-md5") {
        if claimed.trim() != md5 {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                format!("The computed MD5 of the request body ({md5}) does not match the Content-MD5 header ({claimed})"),
            ));
        }
    }
    let tier = match req.header("storage-tier") {
        None => "Standard".to_string(),
        Some(t @ ("Standard" | "InfrequentAccess" | "Archive")) => t.to_string(),
        Some(t) => {
            return Err(ApiError::invalid(format!(
                "storage-tier must be Standard, InfrequentAccess or Archive, got `{t}`"
            )))
        }
    };
    let metadata = req
        .headers
        .iter()
        .filter_map(|(k, v)| {
            k.as_str().strip_prefix("opc-meta-").and_then(|key| {
                v.to_str()
                    .ok()
                    .map(|val| (key.to_string(), val.to_string()))
            })
        })
        .collect();
    let content_type = req
        .header("content-type")
        .unwrap_or("application/octet-stream");
    let meta = object_meta(
        ctx.blob_dir,
        &name,
        data,
        content_type,
        metadata,
        &tier,
        ctx.now,
        existing.as_ref().map(|e| e.time_created),
    )?;
    let etag = meta.etag.clone();
    ctx.st
        .objects
        .entry(bucket.id().to_string())
        .or_default()
        .insert(name.clone(), meta);
    ctx.dirty = true;
    Ok(Reply::no_content()
        .status(StatusCode::OK)
        .header("etag", etag)
        .header("opc-content-md5", md5)
        .header(
            "last-modified",
            httpdate::fmt_http_date(to_system_time(ctx.now)),
        ))
}

pub(crate) fn to_system_time(ms: i64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn object_headers(o: &ObjectMeta) -> Vec<(String, String)> {
    let md5 = match &o.multipart_md5 {
        Some(m) => ("opc-multipart-md5".to_string(), m.clone()),
        None => ("content-md5".to_string(), o.md5.clone()),
    };
    let mut h = vec![
        ("etag".to_string(), o.etag.clone()),
        md5,
        (
            "last-modified".to_string(),
            httpdate::fmt_http_date(to_system_time(o.time_modified)),
        ),
        ("accept-ranges".to_string(), "bytes".to_string()),
        ("storage-tier".to_string(), o.storage_tier.clone()),
    ];
    for (k, v) in &o.metadata {
        h.push((format!("opc-meta-{k}"), v.clone()));
    }
    h
}

fn find_object(ctx: &Ctx<'_>, req: &Req<'_>) -> Result<ObjectMeta, ApiError> {
    let bucket = find_bucket(ctx, req)?;
    let name = req.path("objectName");
    check_object_name(name)?;
    ctx.st
        .objects
        .get(bucket.id())
        .and_then(|o| o.get(name))
        .cloned()
        .ok_or_else(|| object_not_found(bucket.str("name").unwrap_or(""), name))
}

fn conditional(req: &Req<'_>, o: &ObjectMeta) -> Result<Option<Reply>, ApiError> {
    check_if_match_etag(req.headers, &o.etag)?;
    if req
        .header("if-none-match")
        .is_some_and(|v| v.trim_matches('"') == o.etag || v == "*")
    {
        return Ok(Some(
            Reply::no_content()
                .status(StatusCode::NOT_MODIFIED)
                .header("etag", o.etag.clone()),
        ));
    }
    Ok(None)
}

/// Parse a single `bytes=a-b` / `bytes=a-` / `bytes=-n` range.
fn parse_range(header: &str, len: u64) -> Result<(u64, u64), ApiError> {
    let bad = || {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            format!("The range `{header}` cannot be satisfied for an object of {len} bytes"),
        )
    };
    let spec = header.trim().strip_prefix("bytes=").ok_or_else(bad)?;
    let (a, b) = spec.split_once('-').ok_or_else(bad)?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| bad())?;
            (len.saturating_sub(n), len.saturating_sub(1))
        }
        (s, "") => (s.parse().map_err(|_| bad())?, len.saturating_sub(1)),
        (s, e) => (
            s.parse().map_err(|_| bad())?,
            e.parse::<u64>()
                .map_err(|_| bad())?
                .min(len.saturating_sub(1)),
        ),
    };
    if len == 0 || start > end || start >= len {
        return Err(bad());
    }
    Ok((start, end))
}

/// GET /n/{ns}/b/{bucket}/o/{object}
pub(crate) fn get_object(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let o = find_object(ctx, req)?;
    if let Some(r) = conditional(req, &o)? {
        return Ok(r);
    }
    let data = std::fs::read(blob_path(ctx.blob_dir, &o.sha256))
        .map_err(|e| ApiError::internal(format!("object data is missing: {e}")))?;
    let content_type = req
        .query("httpResponseContentType")
        .unwrap_or(&o.content_type)
        .to_string();
    let mut reply = Reply {
        status: StatusCode::OK,
        headers: object_headers(&o),
        body: ReplyBody::Bytes(Bytes::from(data.clone()), content_type),
    };
    if let Some(range) = req.header("range") {
        let (start, end) = parse_range(range, o.size)?;
        let (s, e) = (
            usize::try_from(start).unwrap_or(0),
            usize::try_from(end).unwrap_or(0),
        );
        let slice = data.get(s..=e).unwrap_or_default().to_vec();
        reply.status = StatusCode::PARTIAL_CONTENT;
        reply.headers.push((
            "content-range".into(),
            format!("bytes {start}-{end}/{}", o.size),
        ));
        if let ReplyBody::Bytes(_, ct) = reply.body {
            reply.body = ReplyBody::Bytes(Bytes::from(slice), ct);
        }
    }
    for (q, h) in [
        ("httpResponseContentDisposition", "content-disposition"),
        ("httpResponseCacheControl", "cache-control"),
        ("httpResponseContentLanguage", "content-language"),
        ("httpResponseContentEncoding", "content-encoding"),
        ("httpResponseExpires", "expires"),
    ] {
        if let Some(v) = req.query(q) {
            reply.headers.push((h.into(), v.to_string()));
        }
    }
    Ok(reply)
}

/// HEAD /n/{ns}/b/{bucket}/o/{object}
pub(crate) fn head_object(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let o = find_object(ctx, req)?;
    if let Some(r) = conditional(req, &o)? {
        return Ok(r);
    }
    let mut reply = Reply::no_content().status(StatusCode::OK);
    reply.headers = object_headers(&o);
    reply
        .headers
        .push(("content-length".into(), o.size.to_string()));
    reply
        .headers
        .push(("content-type".into(), o.content_type.clone()));
    Ok(reply)
}

/// DELETE /n/{ns}/b/{bucket}/o/{object}
pub(crate) fn delete_object(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let o = find_object(ctx, req)?;
    check_if_match_etag(req.headers, &o.etag)?;
    let bucket_id = find_bucket(ctx, req)?.id().to_string();
    if let Some(objs) = ctx.st.objects.get_mut(&bucket_id) {
        objs.remove(&o.name);
    }
    let still_used = ctx
        .st
        .objects
        .values()
        .any(|m| m.values().any(|x| x.sha256 == o.sha256));
    if !still_used {
        let _ = std::fs::remove_file(blob_path(ctx.blob_dir, &o.sha256));
    }
    ctx.dirty = true;
    Ok(Reply::no_content().header(
        "last-modified",
        httpdate::fmt_http_date(to_system_time(ctx.now)),
    ))
}
