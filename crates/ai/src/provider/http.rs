//! What every HTTP provider shares: sending with bounded retries, mapping error statuses,
//! and turning an SSE body into [`StreamEvent`]s with a per-chunk timeout.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use portal_core::config::AiSettings;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;

use super::sse::{SseEvent, SseParser};
use super::{EventStream, ProviderError, StreamEvent};

/// Longest provider message we pass on to a chat user.
const MAX_MESSAGE_CHARS: usize = 300;
/// Largest error body we read.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Timeouts and retry behaviour of a provider's HTTP calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// Longest wait for the response head and for each later body chunk.
    pub timeout: Duration,
    /// TCP/TLS connect timeout (capped by `timeout`).
    pub connect_timeout: Duration,
    /// Retries after the first attempt (only before any output was streamed).
    pub max_retries: u32,
    /// Base of the exponential backoff between attempts.
    pub backoff_base: Duration,
    /// A `Retry-After` longer than this is not waited for: the error goes to the caller.
    pub max_retry_wait: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_retries: 2,
            backoff_base: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(20),
        }
    }
}

impl HttpOptions {
    /// The configured timeout with the default retry behaviour.
    pub fn from_settings(settings: &AiSettings) -> Self {
        HttpOptions {
            timeout: settings.timeout,
            ..HttpOptions::default()
        }
    }

    pub(crate) fn client(&self) -> Result<reqwest::Client, reqwest::Error> {
        // No whole-request timeout: a long answer may stream for minutes. The per-chunk
        // timeout in `event_stream` bounds silence instead.
        reqwest::Client::builder()
            .connect_timeout(self.connect_timeout.min(self.timeout))
            .user_agent(concat!("portal-ai/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        let cap = self.backoff_base.saturating_mul(factor);
        let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        // Equal jitter: at least half the exponential step, so retries do spread out.
        let jittered = Duration::from_millis(cap_ms / 2 + fastrand::u64(0..=cap_ms / 2));
        match retry_after {
            Some(ra) => jittered.max(ra),
            None => jittered,
        }
    }
}

/// Sends the request built by `build` (called again for every attempt, so signatures and
/// dates are fresh) and returns the successful response, retrying rate limits, 5xx and
/// transport failures at most `max_retries` times. Nothing has been streamed yet at this
/// point, so a retry cannot duplicate output.
pub(crate) async fn send(
    client: &reqwest::Client,
    opts: &HttpOptions,
    kind: &'static str,
    secrets: &[&str],
    build: &(dyn Fn() -> Result<reqwest::Request, ProviderError> + Send + Sync),
) -> Result<reqwest::Response, ProviderError> {
    let mut retry = 0;
    loop {
        let mut request = build()?;
        add_traceparent(request.headers_mut());
        let err = match tokio::time::timeout(opts.timeout, client.execute(request)).await {
            Err(_) => ProviderError::Timeout,
            Ok(Err(e)) => transport_error(&e),
            Ok(Ok(resp)) if resp.status().is_success() => return Ok(resp),
            Ok(Ok(resp)) => status_error(resp, opts.timeout, secrets).await,
        };
        let retry_after = match &err {
            ProviderError::RateLimited { retry_after } => *retry_after,
            _ => None,
        };
        let too_long = retry_after.is_some_and(|ra| ra > opts.max_retry_wait);
        if retry >= opts.max_retries || !err.retryable() || too_long {
            tracing::warn!(provider = kind, attempts = retry + 1, error = %err, "model call failed");
            return Err(err);
        }
        let wait = opts.backoff(retry, retry_after);
        tracing::info!(provider = kind, attempt = retry + 1, wait_ms = wait.as_millis() as u64, error = %err, "retrying model call");
        tokio::time::sleep(wait).await;
        retry += 1;
    }
}

/// Names the current span as the parent of the provider's work when tracing
/// is on (W3C Trace Context); nothing otherwise.
fn add_traceparent(headers: &mut reqwest::header::HeaderMap) {
    if let Some(v) = portal_telemetry::traceparent()
        .and_then(|tp| reqwest::header::HeaderValue::from_str(&tp).ok())
    {
        headers.insert(portal_telemetry::TRACEPARENT, v);
    }
}

/// A reqwest failure in our terms (the URL is left out: it says nothing a user can act on).
pub(crate) fn transport_error(e: &reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        return ProviderError::Timeout;
    }
    let mut text = if e.is_connect() {
        "connection failed".to_string()
    } else if e.is_body() || e.is_decode() {
        "the connection broke".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    ProviderError::Transport(truncate(&text))
}

/// Maps a non-2xx response to an error, reading the provider's message from its body.
pub(crate) async fn status_error(
    resp: reqwest::Response,
    timeout: Duration,
    secrets: &[&str],
) -> ProviderError {
    let status = resp.status();
    let retry_after = retry_after(resp.headers());
    let body = read_limited(resp, timeout).await;
    let message = provider_message(&body)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    map_status(status, retry_after, &clean_message(&message, secrets))
}

/// The error for `status`, given the provider's (already cleaned) message.
pub(crate) fn map_status(
    status: StatusCode,
    retry_after: Option<Duration>,
    message: &str,
) -> ProviderError {
    match status.as_u16() {
        401 | 403 => ProviderError::Unauthorized,
        429 => ProviderError::RateLimited { retry_after },
        408 | 500..=599 => {
            ProviderError::Unavailable(format!("HTTP {}: {message}", status.as_u16()))
        }
        _ => ProviderError::BadRequest(message.to_string()),
    }
}

async fn read_limited(mut resp: reqwest::Response, timeout: Duration) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < MAX_ERROR_BODY {
        match tokio::time::timeout(timeout, resp.chunk()).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(MAX_ERROR_BODY);
    body
}

/// The human message in an error body of any of the three providers
/// (`{error:{message}}`, `{type:error, error:{message}}`, `{code, message}`), or the text.
pub(crate) fn provider_message(body: &[u8]) -> Option<String> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return json_message(&v);
    }
    let text = String::from_utf8_lossy(body).trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// The message in a parsed error object.
pub(crate) fn json_message(v: &Value) -> Option<String> {
    let candidates = [
        v.pointer("/error/message"),
        v.get("message"),
        v.get("error"),
        v.get("detail"),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|m| m.as_str().map(str::to_string))
        .or_else(|| Some(v.to_string()).filter(|s| s != "null"))
}

/// Removes configured secrets and key-looking words, and truncates, so a provider echoing
/// our credentials cannot put them in front of a user or into a log.
pub(crate) fn clean_message(message: &str, secrets: &[&str]) -> String {
    let mut text = message.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        text = text.replace(s, "[REDACTED]");
    }
    let words: Vec<String> = text
        .split(' ')
        .map(|w| {
            let bare = w.trim_matches(|c: char| !c.is_ascii_alphanumeric());
            if bare.starts_with("sk-") && bare.len() > 8 {
                w.replace(bare, "[REDACTED]")
            } else {
                w.to_string()
            }
        })
        .collect();
    truncate(&words.join(" "))
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// `Retry-After` (seconds or HTTP date) or OpenAI's `retry-after-ms`.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let raw = get("retry-after")?;
    if let Ok(secs) = raw.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(raw).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// Whether the wire protocol's stream is over.
pub(crate) enum Flow {
    /// More events follow.
    Continue,
    /// The answer is complete (its `Finish` was pushed); stop reading.
    Done,
}

/// Turns one protocol's SSE events into [`StreamEvent`]s.
pub(crate) trait Decoder: Send + 'static {
    /// Handles one event.
    fn event(
        &mut self,
        event: SseEvent,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<Flow, ProviderError>;

    /// The body ended before [`Flow::Done`]: finish if the protocol allows it, else fail.
    fn eof(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError>;
}

struct Driver<D> {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    parser: SseParser,
    decoder: D,
    pending: VecDeque<StreamEvent>,
    error: Option<ProviderError>,
    done: bool,
    timeout: Duration,
}

impl<D: Decoder> Driver<D> {
    fn feed(&mut self, events: Vec<SseEvent>) {
        for ev in events {
            match self.decoder.event(ev, &mut self.pending) {
                Ok(Flow::Continue) => {}
                Ok(Flow::Done) => {
                    self.done = true;
                    return;
                }
                Err(e) => {
                    self.error = Some(e);
                    self.done = true;
                    return;
                }
            }
        }
    }

    async fn step(&mut self) {
        let mut events = Vec::new();
        match tokio::time::timeout(self.timeout, self.body.next()).await {
            Err(_) => {
                self.error = Some(ProviderError::Timeout);
                self.done = true;
            }
            Ok(Some(Err(e))) => {
                self.error = Some(transport_error(&e));
                self.done = true;
            }
            Ok(Some(Ok(chunk))) => match self.parser.push(&chunk, &mut events) {
                Ok(()) => self.feed(events),
                Err(e) => {
                    self.error = Some(ProviderError::Protocol(e.to_string()));
                    self.done = true;
                }
            },
            Ok(None) => {
                if let Err(e) = self.parser.finish(&mut events) {
                    self.error = Some(ProviderError::Protocol(e.to_string()));
                    self.done = true;
                    return;
                }
                self.feed(events);
                if !self.done {
                    self.done = true;
                    if let Err(e) = self.decoder.eof(&mut self.pending) {
                        self.error = Some(e);
                    }
                }
            }
        }
    }
}

/// The answer stream of a successful response. Each chunk must arrive within `timeout`;
/// dropping the stream drops the response, which closes the connection.
pub(crate) fn event_stream<D: Decoder>(
    resp: reqwest::Response,
    timeout: Duration,
    decoder: D,
) -> EventStream {
    let driver = Driver {
        body: resp.bytes_stream().boxed(),
        parser: SseParser::default(),
        decoder,
        pending: VecDeque::new(),
        error: None,
        done: false,
        timeout,
    };
    futures_util::stream::unfold(driver, |mut d| async move {
        loop {
            if let Some(ev) = d.pending.pop_front() {
                return Some((Ok(ev), d));
            }
            if let Some(e) = d.error.take() {
                return Some((Err(e), d));
            }
            if d.done {
                return None;
            }
            d.step().await;
        }
    })
    .boxed()
}

/// Assembles tool calls the way every protocol streams them: a start (id, name) followed by
/// argument pieces, keyed by whatever the wire uses (an index, a content block, an id).
#[derive(Debug, Default)]
pub(crate) struct ToolCalls {
    by_key: HashMap<u64, usize>,
    has_args: Vec<bool>,
}

impl ToolCalls {
    /// The call for `key`, started now (pushing `ToolCallStart`) if it is new.
    pub fn start(
        &mut self,
        key: u64,
        id: Option<&str>,
        name: Option<&str>,
        out: &mut VecDeque<StreamEvent>,
    ) -> usize {
        if let Some(&index) = self.by_key.get(&key) {
            return index;
        }
        let index = self.has_args.len();
        self.by_key.insert(key, index);
        self.has_args.push(false);
        out.push_back(StreamEvent::ToolCallStart {
            index,
            id: id
                .filter(|i| !i.is_empty())
                .map_or_else(|| format!("call_{index}"), str::to_string),
            name: name.unwrap_or_default().to_string(),
        });
        index
    }

    /// Whether a call has been started under `key`.
    pub fn contains(&self, key: u64) -> bool {
        self.by_key.contains_key(&key)
    }

    /// Appends argument text to call `index`.
    pub fn delta(&mut self, index: usize, delta: &str, out: &mut VecDeque<StreamEvent>) {
        if delta.is_empty() {
            return;
        }
        if let Some(flag) = self.has_args.get_mut(index) {
            *flag = true;
        }
        out.push_back(StreamEvent::ToolCallDelta {
            index,
            delta: delta.to_string(),
        });
    }

    /// Whether any call was made.
    pub fn any(&self) -> bool {
        !self.has_args.is_empty()
    }

    /// Completes calls that never got arguments with `{}`, so every finished call carries
    /// JSON text (a tool without parameters streams no argument pieces on some wires).
    pub fn close(&mut self, out: &mut VecDeque<StreamEvent>) {
        for (index, has) in self.has_args.iter_mut().enumerate() {
            if !*has {
                *has = true;
                out.push_back(StreamEvent::ToolCallDelta {
                    index,
                    delta: "{}".into(),
                });
            }
        }
    }
}

/// Runs `decoder` over `(event, data)` pairs as the stream driver would, then the end of
/// the body: the events produced and the error that ended it, if any.
#[cfg(test)]
pub(crate) fn decode_all<D: Decoder>(
    mut decoder: D,
    events: &[(&str, &str)],
) -> (Vec<StreamEvent>, Option<ProviderError>) {
    let mut out = VecDeque::new();
    for (event, data) in events {
        let ev = SseEvent {
            event: event.to_string(),
            data: data.to_string(),
        };
        match decoder.event(ev, &mut out) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Done) => return (out.into(), None),
            Err(e) => return (out.into(), Some(e)),
        }
    }
    let err = decoder.eof(&mut out).err();
    (out.into(), err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn statuses_map_to_errors() {
        let m = |s: u16| map_status(StatusCode::from_u16(s).unwrap(), None, "msg");
        assert!(matches!(m(401), ProviderError::Unauthorized));
        assert!(matches!(m(403), ProviderError::Unauthorized));
        assert!(matches!(m(429), ProviderError::RateLimited { .. }));
        assert!(matches!(m(400), ProviderError::BadRequest(ref s) if s == "msg"));
        assert!(matches!(m(404), ProviderError::BadRequest(_)));
        assert!(matches!(m(422), ProviderError::BadRequest(_)));
        assert!(matches!(m(500), ProviderError::Unavailable(_)));
        assert!(matches!(m(529), ProviderError::Unavailable(_)));
    }

    #[test]
    fn messages_come_from_each_providers_error_shape() {
        let msg = |s: &str| provider_message(s.as_bytes());
        assert_eq!(
            msg(r#"{"error":{"message":"bad model","type":"invalid_request_error"}}"#).as_deref(),
            Some("bad model")
        );
        assert_eq!(
            msg(r#"{"type":"error","error":{"type":"x","message":"too long"}}"#).as_deref(),
            Some("too long")
        );
        assert_eq!(
            msg(r#"{"code":"InvalidParameter","message":"no such model"}"#).as_deref(),
            Some("no such model")
        );
        assert_eq!(msg("plain words").as_deref(), Some("plain words"));
        assert_eq!(msg("").as_deref(), None);
    }

    #[test]
    fn secrets_are_removed_and_messages_truncated() {
        let cleaned = clean_message(
            "Incorrect API key provided: sk-proj-abcdefghijk. Key my-secret-key leaked",
            &["my-secret-key"],
        );
        assert!(!cleaned.contains("abcdefghijk"), "{cleaned}");
        assert!(!cleaned.contains("my-secret-key"), "{cleaned}");
        assert!(cleaned.contains("Incorrect API key provided"));
        let long = "é".repeat(1000);
        let cut = clean_message(&long, &[]);
        assert_eq!(cut.chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        let mut h = HeaderMap::new();
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        h.insert("retry-after", HeaderValue::from_str(&later).unwrap());
        let ra = retry_after(&h).unwrap();
        assert!(
            ra > Duration::from_secs(100) && ra <= Duration::from_secs(120),
            "{ra:?}"
        );
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        let o = HttpOptions {
            backoff_base: Duration::from_millis(100),
            ..HttpOptions::default()
        };
        for _ in 0..50 {
            let first = o.backoff(0, None);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let second = o.backoff(1, None);
            assert!(second >= Duration::from_millis(100) && second <= Duration::from_millis(200));
        }
        assert!(o.backoff(0, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
    }
}
