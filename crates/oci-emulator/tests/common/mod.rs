//! Shared helpers: an emulator on 127.0.0.1:0 driven by `portal_oci::OciClient`.
#![allow(dead_code)]

use std::time::Duration;

use http::Method;
use portal_oci::{
    ClientOptions, OciClient, OciError, OciResponse, RequestOptions, RetryPolicy, Service,
};
use portal_oci_emulator::{Emulator, EmulatorConfig};
use serde_json::Value;
use url::Url;

pub struct TestEmu {
    pub emu: Emulator,
    pub client: OciClient,
    pub base: Url,
    pub dir: tempfile::TempDir,
    pub shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

pub fn config(dir: &std::path::Path, delay_ms: u64) -> EmulatorConfig {
    let mut cfg = EmulatorConfig::new(dir);
    cfg.transition_delay = Duration::from_millis(delay_ms);
    cfg
}

/// Serve `emu` on a loopback port; returns the base URL and a shutdown handle.
pub async fn serve(emu: &Emulator) -> (Url, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let e = emu.clone();
    tokio::spawn(async move {
        e.serve(listener, async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (Url::parse(&format!("http://{addr}")).unwrap(), tx)
}

pub fn client_for(emu: &Emulator, base: &Url, attempts: u32) -> OciClient {
    let options = ClientOptions {
        endpoint_override: Some(base.clone()),
        retry: RetryPolicy {
            max_attempts: attempts,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        ..ClientOptions::default()
    };
    OciClient::new(emu.demo_signer(), emu.region().to_string(), options).unwrap()
}

pub async fn start(delay_ms: u64) -> TestEmu {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::open(config(dir.path(), delay_ms)).unwrap();
    let (base, tx) = serve(&emu).await;
    let client = client_for(&emu, &base, 1);
    TestEmu {
        emu,
        client,
        base,
        dir,
        shutdown: Some(tx),
    }
}

impl TestEmu {
    pub fn tenancy(&self) -> String {
        self.emu.tenancy_id().to_string()
    }

    pub async fn get(
        &self,
        svc: &Service,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<OciResponse, OciError> {
        self.client
            .send(
                Method::GET,
                svc,
                path,
                query,
                None,
                &RequestOptions::default(),
            )
            .await
    }

    pub async fn post(
        &self,
        svc: &Service,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<OciResponse, OciError> {
        self.client
            .send(
                Method::POST,
                svc,
                path,
                query,
                body,
                &RequestOptions::default(),
            )
            .await
    }

    pub async fn put(
        &self,
        svc: &Service,
        path: &str,
        body: Value,
        opts: &RequestOptions,
    ) -> Result<OciResponse, OciError> {
        self.client
            .send(Method::PUT, svc, path, &[], Some(body), opts)
            .await
    }

    pub async fn delete(
        &self,
        svc: &Service,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<OciResponse, OciError> {
        self.client
            .send(
                Method::DELETE,
                svc,
                path,
                query,
                None,
                &RequestOptions::default(),
            )
            .await
    }

    /// All items of a paginated list.
    pub async fn list_all(&self, svc: &Service, path: &str, query: &[(&str, &str)]) -> Vec<Value> {
        self.client
            .list_all(svc, path, query, &RequestOptions::default())
            .await
            .unwrap()
    }

    /// Compartment OCID by name (searching the whole tenancy).
    pub async fn compartment(&self, name: &str) -> String {
        let t = self.tenancy();
        let all = self
            .list_all(
                &Service::IDENTITY,
                "/compartments",
                &[("compartmentId", &t), ("compartmentIdInSubtree", "true")],
            )
            .await;
        all.iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["id"].as_str())
            .unwrap_or_else(|| panic!("no compartment {name}"))
            .to_string()
    }

    /// Poll GET `path` until `field` equals `want` (or panic after ~5 s).
    pub async fn wait_for(&self, svc: &Service, path: &str, field: &str, want: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..250 {
            let r = self.get(svc, path, &[]).await.unwrap();
            if r.body[field] == want {
                return r.body;
            }
            last = r.body;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{path}: {field} never became {want}; last: {last}");
    }
}

/// Unwrap a service error into (status, code, message).
pub fn service_error(e: OciError) -> (u16, String, String) {
    match e {
        OciError::Service {
            status,
            code,
            message,
            ..
        } => (status.as_u16(), code, message),
        other => panic!("expected a service error, got {other:?}"),
    }
}
