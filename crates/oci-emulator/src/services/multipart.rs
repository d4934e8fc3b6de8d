//! Object Storage multipart uploads.
//!
//! Parts are written to `objects/uploads/<uploadId>/<partNum>` as they arrive; the
//! state keeps only their size, MD5 and etag. Commit streams the chosen parts,
//! in part-number order, into one content-addressed blob (hashing on the way), so
//! memory stays bounded by one request body and a copy buffer whatever the
//! object's size. The assembled object carries `opc-multipart-md5`: the base64
//! MD5 of the concatenated raw part MD5s, then `-<part count>`, which is what the
//! OCI CLI's `--verify-checksum` recomputes.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::StatusCode;
use md5::Digest;
use serde_json::{json, Value};

use super::assemble::assemble;
use super::objectstorage::{check_object_name, find_bucket, md5_base64, new_etag, to_system_time};
use super::Ctx;
use crate::state::{MultipartUpload, ObjectMeta, UploadPart};
use crate::wire::{self, time_value, ApiError, BodyExt, Reply, Req};

/// Highest part number OCI accepts.
pub const MAX_PART_NUM: u32 = 10_000;

/// Most multipart uploads kept in progress at once (across all buckets).
pub const MAX_UPLOADS: usize = 1_000;

const TIERS: &[&str] = &["Standard", "InfrequentAccess", "Archive"];

fn upload_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("multipart upload {id}"))
}

fn upload_dir(blob_dir: &Path, upload_id: &str) -> PathBuf {
    blob_dir.join("uploads").join(upload_id)
}

pub(crate) fn part_path(blob_dir: &Path, upload_id: &str, num: u32) -> PathBuf {
    upload_dir(blob_dir, upload_id).join(num.to_string())
}

fn new_upload_id() -> String {
    format!(
        "{:016x}-{:04x}-{:04x}-{:012x}",
        fastrand::u64(..),
        fastrand::u16(..),
        fastrand::u16(..),
        fastrand::u64(..) & 0xffff_ffff_ffff
    )
}

fn upload_json(ctx: &Ctx<'_>, id: &str, u: &MultipartUpload) -> Value {
    json!({
        "namespace": ctx.st.meta.namespace,
        "bucket": u.bucket,
        "object": u.object,
        "uploadId": id,
        "timeCreated": time_value(u.time_created),
        "storageTier": u.storage_tier,
    })
}

/// The upload named by the `uploadId` query parameter, checked against the
/// bucket and object of the path.
fn find_upload<'a>(
    ctx: &'a Ctx<'_>,
    req: &Req<'_>,
) -> Result<(String, &'a MultipartUpload), ApiError> {
    let bucket_id = find_bucket(ctx, req)?.id().to_string();
    let object = req.path("objectName");
    check_object_name(object)?;
    let id = req.query_required("uploadId")?;
    match ctx.st.uploads.get(id) {
        Some(u) if u.bucket_id == bucket_id && u.object == object => Ok((id.to_string(), u)),
        _ => Err(upload_not_found(id)),
    }
}

/// POST /n/{ns}/b/{bucket}/u
pub(crate) fn create_multipart_upload(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let bucket = find_bucket(ctx, req)?;
    let (bucket_id, bucket_name) = (
        bucket.id().to_string(),
        bucket.str("name").unwrap_or("").to_string(),
    );
    let default_tier = bucket.str("storageTier").unwrap_or("Standard").to_string();
    let body = req.json()?;
    let object = body.req_str("object")?;
    check_object_name(&object)?;
    let tier = body.opt_enum("storageTier", TIERS)?.unwrap_or(default_tier);
    let content_type = body
        .opt_str("contentType")?
        .unwrap_or_else(|| "application/octet-stream".into());
    let mut metadata = std::collections::BTreeMap::new();
    if let Some(m) = body.opt_obj("metadata")? {
        for (k, v) in m {
            let v = v.as_str().ok_or_else(|| {
                ApiError::invalid(format!("Field `metadata.{k}` must be a string"))
            })?;
            let key = k.strip_prefix("opc-meta-").unwrap_or(k);
            metadata.insert(key.to_string(), v.to_string());
        }
    }
    if ctx.st.uploads.len() >= MAX_UPLOADS {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            format!(
                "At most {MAX_UPLOADS} multipart uploads may be in progress; commit or abort some"
            ),
        ));
    }
    let id = new_upload_id();
    let upload = MultipartUpload {
        bucket_id,
        bucket: bucket_name.clone(),
        object: object.clone(),
        time_created: ctx.now,
        storage_tier: tier,
        content_type,
        metadata,
        parts: Default::default(),
    };
    let v = upload_json(ctx, &id, &upload);
    ctx.st.uploads.insert(id.clone(), upload);
    ctx.dirty = true;
    let location = format!(
        "/n/{}/b/{bucket_name}/u/{object}?uploadId={id}",
        ctx.st.meta.namespace
    );
    Ok(Reply::json(v).header("location", location))
}

/// GET /n/{ns}/b/{bucket}/u
pub(crate) fn list_multipart_uploads(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let bucket_id = find_bucket(ctx, req)?.id().to_string();
    let mut uploads: Vec<(&String, &MultipartUpload)> = ctx
        .st
        .uploads
        .iter()
        .filter(|(_, u)| u.bucket_id == bucket_id)
        .collect();
    uploads.sort_by(|a, b| (&a.1.object, a.1.time_created).cmp(&(&b.1.object, b.1.time_created)));
    let items = uploads
        .into_iter()
        .map(|(id, u)| upload_json(ctx, id, u))
        .collect();
    wire::list_reply(req, items)
}

/// PUT /n/{ns}/b/{bucket}/u/{object}?uploadId=&uploadPartNum=
pub(crate) fn upload_part(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let (id, _) = find_upload(ctx, req)?;
    let raw = req.query_required("uploadPartNum")?;
    let num: u32 = raw
        .parse()
        .ok()
        .filter(|n| (1..=MAX_PART_NUM).contains(n))
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "`uploadPartNum` must be an integer between 1 and {MAX_PART_NUM}, got `{raw}`"
            ))
        })?;
    let data = req.body;
    let md5 = md5_base64(data);
    if let Some(claimed) = req.header("content-md5") {
        if claimed.trim() != md5 {
            return Err(ApiError::invalid(format!(
                "The computed MD5 of the request body ({md5}) does not match the Content-MD5 header ({claimed})"
            )));
        }
    }
    let existing = ctx.st.uploads.get(&id).and_then(|u| u.parts.get(&num));
    if let Some(inm) = req.header("if-none-match") {
        if inm.trim() == "*" && existing.is_some() {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "IfNoneMatchFailed",
                format!("Part {num} of upload {id} already exists"),
            ));
        }
    }
    if req.header("if-match").is_some() {
        match existing {
            Some(p) => wire::check_if_match_etag(req.headers, &p.etag)?,
            None => {
                return Err(ApiError::precondition_failed(format!(
                    "Part {num} of upload {id} does not exist, so if-match cannot match"
                )))
            }
        }
    }
    let dir = upload_dir(ctx.blob_dir, &id);
    crate::state::create_private_dir(&dir)
        .and_then(|()| crate::state::write_atomic(&part_path(ctx.blob_dir, &id, num), data))
        .map_err(|e| ApiError::internal(format!("cannot store the part: {e}")))?;
    let etag = new_etag();
    let part = UploadPart {
        size: data.len() as u64,
        md5: md5.clone(),
        etag: etag.clone(),
    };
    if let Some(u) = ctx.st.uploads.get_mut(&id) {
        u.parts.insert(num, part);
    }
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

/// GET /n/{ns}/b/{bucket}/u/{object}?uploadId=
pub(crate) fn list_multipart_upload_parts(
    ctx: &mut Ctx<'_>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let (_, upload) = find_upload(ctx, req)?;
    let items = upload
        .parts
        .iter()
        .map(|(n, p)| json!({"partNumber": n, "etag": p.etag, "md5": p.md5, "size": p.size}))
        .collect();
    wire::list_reply(req, items)
}

/// The part numbers to assemble, in order, from a `CommitMultipartUploadDetails`.
fn parts_to_commit(
    body: &serde_json::Map<String, Value>,
    upload: &MultipartUpload,
) -> Result<Vec<u32>, ApiError> {
    let list = body
        .opt_arr("partsToCommit")?
        .ok_or_else(|| ApiError::missing("partsToCommit"))?;
    if list.is_empty() {
        return Err(ApiError::invalid(
            "`partsToCommit` must name at least one part",
        ));
    }
    let mut nums = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let Value::Object(item) = item else {
            return Err(ApiError::invalid(format!(
                "`partsToCommit[{i}]` must be an object"
            )));
        };
        let num = item
            .opt_i64("partNum")?
            .ok_or_else(|| ApiError::missing(&format!("partsToCommit[{i}].partNum")))?;
        let etag = item.req_str("etag")?;
        let part = u32::try_from(num)
            .ok()
            .and_then(|n| upload.parts.get(&n).map(|p| (n, p)));
        match part {
            Some((n, p)) if p.etag == etag => nums.push(n),
            Some(_) => {
                return Err(ApiError::invalid(format!(
                    "The etag `{etag}` of part {num} does not match the uploaded part"
                )))
            }
            None => return Err(ApiError::invalid(format!("Part {num} was not uploaded"))),
        }
    }
    nums.sort_unstable();
    if nums.windows(2).any(|w| w[0] == w[1]) {
        return Err(ApiError::invalid(
            "`partsToCommit` names a part more than once",
        ));
    }
    if let Some(excluded) = body.opt_arr("partsToExclude")? {
        for v in excluded {
            let n = v.as_i64().ok_or_else(|| {
                ApiError::invalid("`partsToExclude` must be an array of integers")
            })?;
            if u32::try_from(n).is_ok_and(|n| nums.contains(&n)) {
                return Err(ApiError::invalid(format!(
                    "Part {n} is both committed and excluded"
                )));
            }
        }
    }
    Ok(nums)
}

/// `opc-multipart-md5` of the committed parts.
fn multipart_md5(upload: &MultipartUpload, nums: &[u32]) -> String {
    let mut m = md5::Md5::new();
    for n in nums {
        if let Some(raw) = upload
            .parts
            .get(n)
            .and_then(|p| STANDARD.decode(&p.md5).ok())
        {
            m.update(raw);
        }
    }
    format!("{}-{}", STANDARD.encode(m.finalize()), nums.len())
}

/// POST /n/{ns}/b/{bucket}/u/{object}?uploadId=
pub(crate) fn commit_multipart_upload(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let (id, upload) = find_upload(ctx, req)?;
    let upload = upload.clone();
    let body = req.json()?;
    let nums = parts_to_commit(&body, &upload)?;
    let existing = ctx
        .st
        .objects
        .get(&upload.bucket_id)
        .and_then(|o| o.get(&upload.object))
        .cloned();
    if let Some(inm) = req.header("if-none-match") {
        if inm.trim() == "*" && existing.is_some() {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "IfNoneMatchFailed",
                format!("The object '{}' already exists", upload.object),
            ));
        }
    }
    if req.header("if-match").is_some() {
        match &existing {
            Some(o) => wire::check_if_match_etag(req.headers, &o.etag)?,
            None => {
                return Err(ApiError::precondition_failed(format!(
                    "The object '{}' does not exist, so if-match cannot match",
                    upload.object
                )))
            }
        }
    }
    let blob = assemble(ctx.blob_dir, &id, &nums)
        .map_err(|e| ApiError::internal(format!("cannot assemble the object: {e}")))?;
    let mp_md5 = multipart_md5(&upload, &nums);
    let meta = ObjectMeta {
        name: upload.object.clone(),
        size: blob.size,
        md5: blob.md5,
        sha256: blob.sha256,
        etag: new_etag(),
        content_type: upload.content_type.clone(),
        metadata: upload.metadata.clone(),
        time_created: existing.as_ref().map_or(ctx.now, |e| e.time_created),
        time_modified: ctx.now,
        storage_tier: upload.storage_tier.clone(),
        multipart_md5: Some(mp_md5.clone()),
    };
    let etag = meta.etag.clone();
    ctx.st
        .objects
        .entry(upload.bucket_id.clone())
        .or_default()
        .insert(upload.object.clone(), meta);
    ctx.st.uploads.remove(&id);
    let _ = std::fs::remove_dir_all(upload_dir(ctx.blob_dir, &id));
    ctx.dirty = true;
    Ok(Reply::no_content()
        .status(StatusCode::OK)
        .header("etag", etag)
        .header("opc-multipart-md5", mp_md5)
        .header(
            "last-modified",
            httpdate::fmt_http_date(to_system_time(ctx.now)),
        ))
}

/// DELETE /n/{ns}/b/{bucket}/u/{object}?uploadId=
pub(crate) fn abort_multipart_upload(ctx: &mut Ctx<'_>, req: &Req<'_>) -> Result<Reply, ApiError> {
    let (id, _) = find_upload(ctx, req)?;
    ctx.st.uploads.remove(&id);
    let _ = std::fs::remove_dir_all(upload_dir(ctx.blob_dir, &id));
    ctx.dirty = true;
    Ok(Reply::no_content())
}
