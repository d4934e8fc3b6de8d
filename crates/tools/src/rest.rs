//! The REST plumbing the tools share: signed calls whose error is the
//! cloud's message, listing every page, and projecting results to the
//! fields a model needs.

use http::Method;
use portal_core::service::tools::ToolError;
use portal_oci::client::{OciError, OciResponse, RequestOptions};
use portal_oci::endpoint::{EndpointError, Service};
use serde_json::{json, Map, Value};

use crate::OciTools;

impl OciTools {
    /// The `compartmentId` argument, or the tenancy's root compartment.
    pub(crate) fn compartment<'a>(&'a self, args: &'a Map<String, Value>) -> &'a str {
        args.get("compartmentId")
            .and_then(Value::as_str)
            .unwrap_or(&self.tenancy)
    }

    /// Every page of a list, cut to `limit` items.
    pub(crate) async fn list(
        &self,
        service: &Service,
        path: &str,
        query: &[(&str, &str)],
        limit: usize,
    ) -> Result<Vec<Value>, ToolError> {
        let opts = RequestOptions::default();
        let mut items = self
            .client
            .list_all(service, path, query, &opts)
            .await
            .map_err(oci_error)?;
        items.truncate(limit);
        Ok(items)
    }

    /// Lists and projects: the common shape of the list tools.
    pub(crate) async fn list_projected(
        &self,
        service: &Service,
        path: &str,
        query: &[(&str, &str)],
        limit: usize,
        fields: &[&str],
    ) -> Result<Value, ToolError> {
        Ok(counted(
            self.list(service, path, query, limit).await?,
            fields,
        ))
    }

    /// A compartment's resources at `path` (the `compartmentId` argument, else
    /// the tenancy), filtered by the `(query key, argument)` pairs given, cut to
    /// `limit` items of `fields`: the shape of most list tools.
    pub(crate) async fn list_in_compartment(
        &self,
        service: &Service,
        path: &str,
        args: &Map<String, Value>,
        by: &[(&str, &str)],
        fields: &[&str],
    ) -> Result<Value, ToolError> {
        let mut q = vec![("compartmentId", self.compartment(args))];
        q.extend(filters(args, by));
        self.list_projected(service, path, &q, limit(args), fields)
            .await
    }

    /// One signed call; the error is the cloud's message.
    pub(crate) async fn send(
        &self,
        method: Method,
        service: &Service,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<OciResponse, ToolError> {
        self.send_with(
            method,
            service,
            path,
            query,
            body,
            &RequestOptions::default(),
        )
        .await
    }

    /// [`OciTools::send`] with request options (e.g. `if-match`).
    pub(crate) async fn send_with(
        &self,
        method: Method,
        service: &Service,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
        opts: &RequestOptions,
    ) -> Result<OciResponse, ToolError> {
        // A repeatable call (a workflow step) makes its POSTs idempotent at the cloud.
        let tokened;
        let opts = match method == Method::POST && opts.retry_token.is_none() {
            true => match portal_core::service::tools::next_retry_token() {
                Some(t) => {
                    tokened = opts.clone().retry_token(t);
                    &tokened
                }
                None => opts,
            },
            false => opts,
        };
        self.client
            .send(method, service, path, query, body, opts)
            .await
            .map_err(oci_error)
    }

    /// GET one resource's body.
    pub(crate) async fn get(&self, service: &Service, path: &str) -> Result<Value, ToolError> {
        self.send(Method::GET, service, path, &[], None)
            .await
            .map(|r| r.body)
    }

    /// POST a body; the response's body.
    pub(crate) async fn post(
        &self,
        service: &Service,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ToolError> {
        self.send(Method::POST, service, path, &[], body)
            .await
            .map(|r| r.body)
    }

    /// The tenancy's Object Storage namespace.
    pub(crate) async fn namespace(&self) -> Result<String, ToolError> {
        let ns = self.get(&Service::OBJECT_STORAGE, "/n").await?;
        Ok(ns
            .as_str()
            .ok_or("Object Storage returned no namespace")?
            .to_string())
    }
}

/// A client error as a tool error: a request the client refused to build from
/// the arguments (a dot segment in a path) is the caller's mistake (400); the
/// rest is the cloud's message.
pub(crate) fn oci_error(e: OciError) -> ToolError {
    match e {
        OciError::Endpoint(EndpointError::DotSegment(_)) => ToolError::Invalid(e.to_string()),
        e => ToolError::Cloud(e.to_string()),
    }
}

/// Waits `ms` milliseconds (between polls).
pub(crate) async fn sleep_ms(ms: u64) {
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// Keeps only `fields` of one object.
pub(crate) fn pick(item: &Value, fields: &[&str]) -> Value {
    Value::Object(
        fields
            .iter()
            .filter_map(|f| item.get(*f).map(|v| (f.to_string(), v.clone())))
            .collect(),
    )
}

/// A list tool's result: the items, and their count.
pub(crate) fn listed(items: Vec<Value>) -> Value {
    let n = items.len();
    json!({"items": items, "count": n})
}

/// A list tool's result with each item cut to `fields`: the compact output a
/// model needs.
pub(crate) fn counted(items: Vec<Value>, fields: &[&str]) -> Value {
    listed(items.iter().map(|item| pick(item, fields)).collect())
}

/// RFC 3339 times `hours` back from now, and now: a query window.
pub(crate) fn hours_back(hours: i64) -> (String, String) {
    let now = time::OffsetDateTime::now_utc();
    let rfc = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    (rfc(now - time::Duration::hours(hours)), rfc(now))
}

/// The items of a `{"items": [...]}` body (none when absent).
pub(crate) fn items_of(body: &Value, field: &str) -> Vec<Value> {
    body.get(field)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A string argument ("" when absent: validation made required ones present).
pub(crate) fn text<'a>(args: &'a Map<String, Value>, name: &str) -> &'a str {
    args.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// An integer argument, or `default` when absent.
pub(crate) fn int(args: &Map<String, Value>, name: &str, default: i64) -> i64 {
    args.get(name).and_then(Value::as_i64).unwrap_or(default)
}

/// The `limit` argument (100 when absent).
pub(crate) fn limit(args: &Map<String, Value>) -> usize {
    args.get("limit").and_then(Value::as_u64).unwrap_or(100) as usize
}

/// Query pairs for the string arguments given, as `(query key, argument)`.
pub(crate) fn filters<'a>(
    args: &'a Map<String, Value>,
    pairs: &[(&'a str, &str)],
) -> Vec<(&'a str, &'a str)> {
    pairs
        .iter()
        .filter_map(|(key, arg)| args.get(*arg).and_then(Value::as_str).map(|v| (*key, v)))
        .collect()
}

/// The given `fields` of the arguments, under the same names, as a request body.
pub(crate) fn body_of(args: &Map<String, Value>, fields: &[&str]) -> Map<String, Value> {
    fields
        .iter()
        .filter_map(|f| args.get(*f).map(|v| (f.to_string(), v.clone())))
        .collect()
}

/// `{id, lifecycleState}` of a resource a tool acted on.
pub(crate) fn state_of(id: &str, body: &Value) -> Value {
    json!({"id": id, "lifecycleState": body.get("lifecycleState").cloned().unwrap_or(Value::Null)})
}

/// `{id, displayName, lifecycleState}` of a resource a tool created.
pub(crate) fn created(body: &Value) -> Value {
    json!({"id": body.get("id"), "displayName": body.get("displayName"), "lifecycleState": body.get("lifecycleState")})
}

/// The items of a body that is a JSON array (none otherwise).
pub(crate) fn array_of(body: Value) -> Vec<Value> {
    match body {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}
