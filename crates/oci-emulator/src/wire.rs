//! OCI REST wire conventions shared by every service: error bodies, replies with
//! `etag`/`opc-next-page` headers, request accessors (path/query/body/`if-match`),
//! pagination, sorting, filtering and RFC 3339 timestamps.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// An OCI error response: status plus `{"code": ..., "message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// OCI error code (`NotAuthorizedOrNotFound`, `InvalidParameter`, ...).
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Extra response headers (e.g. `retry-after` for 429).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// Any status/code/message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// 404 `NotAuthorizedOrNotFound` — OCI's answer for anything missing or not visible.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotAuthorizedOrNotFound",
            format!("Authorization failed or requested resource not found: {what}"),
        )
    }

    /// 400 `InvalidParameter`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidParameter", message)
    }

    /// 400 `MissingParameter` naming the absent field.
    pub fn missing(field: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            format!("Missing required parameter or field `{field}`"),
        )
    }

    /// 409 `IncorrectState`.
    pub fn incorrect_state(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "IncorrectState", message)
    }

    /// 409 `Conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", message)
    }

    /// 412 `PreconditionFailed` (etag mismatch).
    pub fn precondition_failed(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            message,
        )
    }

    /// 401 `NotAuthenticated`.
    pub fn not_authenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "NotAuthenticated", message)
    }

    /// 500 `InternalServerError`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            message,
        )
    }

    /// The JSON error body.
    pub fn body(&self) -> Value {
        serde_json::json!({ "code": self.code, "message": self.message })
    }
}

/// Body of a successful reply.
#[derive(Debug, Clone)]
pub enum ReplyBody {
    /// `application/json`.
    Json(Value),
    /// Raw bytes with a content type (object data, console history).
    Bytes(Bytes, String),
    /// No body (204, HEAD).
    Empty,
}

/// A successful reply before it becomes an HTTP response.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: ReplyBody,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(value: Value) -> Self {
        Self {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: ReplyBody::Json(value),
        }
    }

    /// 200 with a JSON resource and its `etag` header.
    pub fn resource(value: Value) -> Self {
        let etag = etag_of(&value);
        Self::json(value).header("etag", etag)
    }

    /// 204 without body.
    pub fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            headers: Vec::new(),
            body: ReplyBody::Empty,
        }
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Change the status.
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

/// Strong etag of a JSON resource: a hash of its canonical serialisation, so it
/// changes whenever anything visible changes (including lifecycle transitions).
pub fn etag_of(value: &Value) -> String {
    let text = serde_json::to_string(value).unwrap_or_default();
    hex_digest(text.as_bytes())[..32].to_string()
}

/// Lower-case hex SHA-256.
pub fn hex_digest(data: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Enforce `if-match` against the current etag (`*` matches anything).
pub fn check_if_match(headers: &HeaderMap, current: &Value) -> Result<(), ApiError> {
    check_if_match_etag(headers, &etag_of(current))
}

/// Enforce `if-match` against a known etag.
pub fn check_if_match_etag(headers: &HeaderMap, etag: &str) -> Result<(), ApiError> {
    if let Some(v) = headers.get("if-match") {
        let wanted = v
            .to_str()
            .map_err(|_| ApiError::invalid("if-match header is not ASCII"))?
            .trim();
        if wanted != "*" && wanted.trim_matches('"') != etag {
            return Err(ApiError::precondition_failed(format!(
                "The resource's etag `{etag}` does not match the if-match header `{wanted}`"
            )));
        }
    }
    Ok(())
}

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Current wall-clock time in milliseconds.
pub fn now_ms() -> Millis {
    let now = OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// RFC 3339 with milliseconds and `Z`, as OCI emits (`2024-05-01T12:00:00.000Z`).
pub fn fmt_time(ms: Millis) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return "1970-01-01T00:00:00.000Z".to_string();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// JSON string of [`fmt_time`].
pub fn time_value(ms: Millis) -> Value {
    Value::String(fmt_time(ms))
}

/// Parse an RFC 3339 timestamp into milliseconds.
pub fn parse_time(text: &str, field: &str) -> Result<Millis, ApiError> {
    let t = OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|_| {
        ApiError::invalid(format!(
            "`{field}` must be an RFC 3339 date-time, got `{text}`"
        ))
    })?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| ApiError::invalid(format!("`{field}` is out of range")))
}

/// Parsed request pieces handed to operation handlers.
#[derive(Debug)]
pub struct Req<'a> {
    /// Decoded path parameters by template name.
    pub params: BTreeMap<&'static str, String>,
    /// Decoded query pairs in order.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// Raw body.
    pub body: &'a Bytes,
}

impl Req<'_> {
    /// A path parameter (always present once the route matched).
    pub fn path(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or("")
    }

    /// An optional query parameter (empty values count as absent).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A required query parameter, else 400 `MissingParameter`.
    pub fn query_required(&self, name: &str) -> Result<&str, ApiError> {
        self.query(name).ok_or_else(|| ApiError::missing(name))
    }

    /// An optional boolean query parameter.
    pub fn query_bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.query(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::invalid(format!(
                "`{name}` must be true or false, got `{v}`"
            ))),
        }
    }

    /// An optional query parameter restricted to `allowed` values.
    pub fn query_enum(&self, name: &str, allowed: &[&str]) -> Result<Option<&str>, ApiError> {
        match self.query(name) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v)),
            Some(v) => Err(ApiError::invalid(format!(
                "`{name}` must be one of {}, got `{v}`",
                allowed.join(", ")
            ))),
        }
    }

    /// A header value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as a JSON object, else 400.
    pub fn json(&self) -> Result<Map<String, Value>, ApiError> {
        if self.body.is_empty() {
            return Err(ApiError::missing("request body"));
        }
        match serde_json::from_slice::<Value>(self.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(ApiError::invalid("The request body must be a JSON object")),
            Err(e) => Err(ApiError::invalid(format!(
                "The request body is not valid JSON: {e}"
            ))),
        }
    }

    /// The body as a JSON object, or an empty object when there is no body.
    pub fn json_or_empty(&self) -> Result<Map<String, Value>, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            Ok(Map::new())
        } else {
            self.json()
        }
    }
}

/// Typed access to JSON request bodies with OCI-style 400s naming the field.
pub trait BodyExt {
    /// A required non-empty string field.
    fn req_str(&self, field: &str) -> Result<String, ApiError>;
    /// An optional string field (400 if present but not a string).
    fn opt_str(&self, field: &str) -> Result<Option<String>, ApiError>;
    /// An optional number field.
    fn opt_f64(&self, field: &str) -> Result<Option<f64>, ApiError>;
    /// An optional integer field.
    fn opt_i64(&self, field: &str) -> Result<Option<i64>, ApiError>;
    /// An optional boolean field.
    fn opt_bool(&self, field: &str) -> Result<Option<bool>, ApiError>;
    /// An optional object field.
    fn opt_obj(&self, field: &str) -> Result<Option<&Map<String, Value>>, ApiError>;
    /// An optional array field.
    fn opt_arr(&self, field: &str) -> Result<Option<&Vec<Value>>, ApiError>;
    /// An optional string restricted to `allowed`.
    fn opt_enum(&self, field: &str, allowed: &[&str]) -> Result<Option<String>, ApiError>;
}

fn wrong_type(field: &str, ty: &str) -> ApiError {
    ApiError::invalid(format!("Field `{field}` must be {ty}"))
}

impl BodyExt for Map<String, Value> {
    fn req_str(&self, field: &str) -> Result<String, ApiError> {
        match self.opt_str(field)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(ApiError::missing(field)),
        }
    }

    fn opt_str(&self, field: &str) -> Result<Option<String>, ApiError> {
        match self.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(wrong_type(field, "a string")),
        }
    }

    fn opt_f64(&self, field: &str) -> Result<Option<f64>, ApiError> {
        match self.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_f64()
                .map(Some)
                .ok_or_else(|| wrong_type(field, "a number")),
            Some(_) => Err(wrong_type(field, "a number")),
        }
    }

    fn opt_i64(&self, field: &str) -> Result<Option<i64>, ApiError> {
        match self.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| wrong_type(field, "an integer")),
            Some(_) => Err(wrong_type(field, "an integer")),
        }
    }

    fn opt_bool(&self, field: &str) -> Result<Option<bool>, ApiError> {
        match self.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong_type(field, "a boolean")),
        }
    }

    fn opt_obj(&self, field: &str) -> Result<Option<&Map<String, Value>>, ApiError> {
        match self.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(wrong_type(field, "an object")),
        }
    }

    fn opt_arr(&self, field: &str) -> Result<Option<&Vec<Value>>, ApiError> {
        match self.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(wrong_type(field, "an array")),
        }
    }

    fn opt_enum(&self, field: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        match self.opt_str(field)? {
            None => Ok(None),
            Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v)),
            Some(v) => Err(ApiError::invalid(format!(
                "Field `{field}` must be one of {}, got `{v}`",
                allowed.join(", ")
            ))),
        }
    }
}

/// Copy optional tag maps (`freeformTags`, `definedTags`) from a create body.
pub fn copy_tags(from: &Map<String, Value>, to: &mut Map<String, Value>) -> Result<(), ApiError> {
    for field in ["freeformTags", "definedTags"] {
        if let Some(m) = from.opt_obj(field)? {
            to.insert(field.to_string(), Value::Object(m.clone()));
        } else {
            to.insert(field.to_string(), Value::Object(Map::new()));
        }
    }
    Ok(())
}

/// Default page size when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest accepted `limit`.
pub const MAX_LIMIT: usize = 1000;

/// Parse `limit` (1..=1000, default `default`).
pub fn parse_limit(req: &Req<'_>, default: usize) -> Result<usize, ApiError> {
    match req.query("limit") {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(format!(
                "`limit` must be an integer between 1 and {MAX_LIMIT}, got `{v}`"
            ))),
        },
    }
}

/// Page tokens are opaque to clients; here they encode the offset.
fn page_offset(req: &Req<'_>) -> Result<usize, ApiError> {
    match req.query("page") {
        None => Ok(0),
        Some(token) => token
            .strip_prefix("page-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| ApiError::invalid(format!("`page` token `{token}` is not valid"))),
    }
}

/// Cut one page out of `items` using `limit`/`page`; returns the page and the
/// `opc-next-page` token when more items follow.
pub fn paginate<T>(
    req: &Req<'_>,
    items: Vec<T>,
    default_limit: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let limit = parse_limit(req, default_limit)?;
    let offset = page_offset(req)?;
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let next = (offset.saturating_add(limit) < total).then(|| format!("page-{}", offset + limit));
    Ok((page, next))
}

/// A JSON array reply for a list operation, paginated, with `opc-next-page`.
pub fn list_reply(req: &Req<'_>, items: Vec<Value>) -> Result<Reply, ApiError> {
    let (page, next) = paginate(req, items, DEFAULT_LIMIT)?;
    let mut reply = Reply::json(Value::Array(page));
    if let Some(n) = next {
        reply = reply.header("opc-next-page", n);
    }
    Ok(reply)
}

/// An object reply for a list operation whose model wraps the page (OCI's
/// `…Collection` models): `body(page, items left after it)`, paginated, with
/// `opc-next-page`.
pub fn collection_reply(
    req: &Req<'_>,
    items: Vec<Value>,
    default_limit: usize,
    body: impl FnOnce(Vec<Value>, usize) -> Value,
) -> Result<Reply, ApiError> {
    let total = items.len();
    let offset = page_offset(req)?;
    let (page, next) = paginate(req, items, default_limit)?;
    let remaining = total.saturating_sub(offset.saturating_add(page.len()));
    let mut reply = Reply::json(body(page, remaining));
    if let Some(n) = next {
        reply = reply.header("opc-next-page", n);
    }
    Ok(reply)
}

/// Apply `sortBy`/`sortOrder` (OCI default: `TIMECREATED` descending). `DISPLAYNAME`
/// / `NAME` sort case-insensitively by `displayName` / `name`.
pub fn sort_items(req: &Req<'_>, items: &mut [Value], allowed_by: &[&str]) -> Result<(), ApiError> {
    let by = req.query_enum("sortBy", allowed_by)?;
    let order = req.query_enum("sortOrder", &["ASC", "DESC"])?;
    let by = by.unwrap_or(allowed_by.first().copied().unwrap_or("TIMECREATED"));
    let field = match by {
        "TIMECREATED" => "timeCreated",
        "DISPLAYNAME" | "displayName" => "displayName",
        "NAME" | "name" => "name",
        "severity" => "severity",
        other => other,
    };
    let default_desc = field == "timeCreated";
    let desc = match order {
        Some("DESC") => true,
        Some(_) => false,
        None => default_desc,
    };
    items.sort_by(|a, b| {
        let ka = sort_key(a, field);
        let kb = sort_key(b, field);
        let ord = ka.cmp(&kb).then_with(|| {
            let ia = a.get("id").and_then(Value::as_str).unwrap_or("");
            let ib = b.get("id").and_then(Value::as_str).unwrap_or("");
            ia.cmp(ib)
        });
        if desc {
            ord.reverse()
        } else {
            ord
        }
    });
    Ok(())
}

fn sort_key(v: &Value, field: &str) -> String {
    match v.get(field) {
        Some(Value::String(s)) => s.to_lowercase(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Keep items whose JSON `field` equals the query parameter `param` when given.
pub fn filter_eq(req: &Req<'_>, items: &mut Vec<Value>, param: &str, field: &str) {
    if let Some(wanted) = req.query(param) {
        items.retain(|v| match v.get(field) {
            Some(Value::String(s)) => s == wanted,
            Some(Value::Bool(b)) => b.to_string() == wanted,
            Some(other) => {
                let text = other.to_string();
                text == wanted
            }
            None => false,
        });
    }
}

/// Validate `lifecycleState` against `allowed`, then filter on it.
pub fn filter_lifecycle(
    req: &Req<'_>,
    items: &mut Vec<Value>,
    allowed: &[&str],
) -> Result<(), ApiError> {
    req.query_enum("lifecycleState", allowed)?;
    filter_eq(req, items, "lifecycleState", "lifecycleState");
    Ok(())
}
