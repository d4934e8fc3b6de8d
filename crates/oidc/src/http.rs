//! openidconnect's HTTP calls, made by the portal's SSRF-guarded client: the
//! URL is judged before the request (IP literals skip the resolver) and every
//! resolved address at connect time; redirects are never followed and bodies
//! are read to at most [`MAX_BODY`].

use std::future::Future;
use std::pin::Pin;

use futures_util::StreamExt as _;
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};
use portal_webhooks::GuardedClient;

/// Response bytes read at most (discovery documents and key sets are small).
pub const MAX_BODY: usize = 1 << 20;

/// Why a call to the OP failed before it answered.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The outbound guard refused the destination.
    #[error("refused by the outbound guard: {0}")]
    Refused(String),
    /// The connection or the transfer failed.
    #[error("{0}")]
    Transport(String),
    /// The answer is larger than [`MAX_BODY`].
    #[error("the answer is larger than {MAX_BODY} bytes")]
    TooLarge,
}

/// The guarded client as openidconnect's HTTP client.
#[derive(Clone)]
pub struct OidcHttp {
    client: GuardedClient,
}

impl OidcHttp {
    /// Wraps the guarded client.
    pub fn new(client: GuardedClient) -> Self {
        Self { client }
    }

    /// The guarded client.
    pub fn guarded(&self) -> &GuardedClient {
        &self.client
    }

    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url = req.uri().to_string();
        let target = self
            .client
            .policy()
            .check_url(&url)
            .map_err(|e| HttpError::Refused(e.to_string()))?;
        let (parts, body) = req.into_parts();
        let mut rb = self
            .client
            .http()
            .request(parts.method, target.url.as_str())
            .body(body);
        for (k, v) in &parts.headers {
            rb = rb.header(k, v);
        }
        let resp = rb.send().await.map_err(|e| transport(&e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
            return Err(HttpError::TooLarge);
        }
        let mut kept = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| transport(&e))?;
            if kept.len() + chunk.len() > MAX_BODY {
                return Err(HttpError::TooLarge);
            }
            kept.extend_from_slice(&chunk);
        }
        let mut out = http::Response::builder().status(status);
        if let Some(h) = out.headers_mut() {
            *h = headers;
        }
        out.body(kept)
            .map_err(|e| HttpError::Transport(e.to_string()))
    }
}

/// Every cause, so the guard's refusal (raised inside the resolver) shows.
fn transport(e: &reqwest::Error) -> HttpError {
    if e.is_timeout() {
        return HttpError::Transport("timed out".into());
    }
    let mut out = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    if out.contains("outbound") || out.contains(" address") {
        return HttpError::Refused(out);
    }
    HttpError::Transport(out)
}

impl<'c> AsyncHttpClient<'c> for OidcHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
