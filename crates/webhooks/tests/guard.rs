//! The guarded client against real sockets on loopback.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use portal_core::outbound::{AllowEntry, OutboundPolicy, Refusal};
use portal_core::webhooks::{SendResult, Sender};
use portal_webhooks::{GuardedClient, Lookup};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A receiver answering every request with `response` after `delay`,
/// counting the connections it accepted.
async fn receiver(response: &'static str, delay: Duration) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = sock.read(&mut buf).await;
                tokio::time::sleep(delay).await;
                let _ = sock.write_all(response.as_bytes()).await;
            });
        }
    });
    (addr, hits)
}

/// Answers each lookup with the next list of `answers` (the last one repeats).
struct Scripted {
    answers: Vec<Vec<IpAddr>>,
    calls: AtomicUsize,
}

impl Lookup for Scripted {
    fn lookup(
        &self,
        _host: &str,
    ) -> Pin<Box<dyn std::future::Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let a = self.answers[n.min(self.answers.len() - 1)].clone();
        Box::pin(async move { Ok(a) })
    }
}

fn scripted(answers: &[&[&str]]) -> Arc<Scripted> {
    Arc::new(Scripted {
        answers: answers
            .iter()
            .map(|a| a.iter().map(|s| s.parse().unwrap()).collect())
            .collect(),
        calls: AtomicUsize::new(0),
    })
}

fn client(allow: &[&str], timeout_ms: u64, lookup: Arc<dyn Lookup>) -> GuardedClient {
    let policy = OutboundPolicy {
        allow: allow
            .iter()
            .map(|a| AllowEntry::parse(a).unwrap())
            .collect(),
        allow_http: true,
    };
    GuardedClient::new(policy, Duration::from_millis(timeout_ms), lookup).unwrap()
}

const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";

#[tokio::test]
async fn a_name_that_rebinds_to_loopback_after_the_check_cannot_reach_it() {
    let (addr, hits) = receiver(OK, Duration::ZERO).await;
    // Public at check time, loopback at connect time.
    let dns = scripted(&[&["93.184.216.34"], &["127.0.0.1"]]);
    let c = client(&[], 2000, dns.clone());
    let url = format!("http://rebind.example:{}/hook", addr.port());
    assert_eq!(
        c.check(&url).await,
        Ok(()),
        "the check saw a public address"
    );
    let r = c.post(&url, &[], b"{}").await;
    let SendResult::Failed { error } = r else {
        panic!("reached the receiver: {r:?}")
    };
    assert!(error.contains("127.0.0.1 is a loopback address"), "{error}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no connection to loopback");
    assert_eq!(
        dns.calls.load(Ordering::SeqCst),
        2,
        "resolved again at connect"
    );
}

#[tokio::test]
async fn allowlisted_loopback_is_reached_at_the_validated_address() {
    let (addr, hits) = receiver(OK, Duration::ZERO).await;
    let c = client(&["127.0.0.1"], 2000, scripted(&[&["127.0.0.1"]]));
    let r = c
        .post(
            &format!("http://receiver.test:{}/", addr.port()),
            &[("webhook-id", "msg_1".into())],
            b"{}",
        )
        .await;
    assert_eq!(
        r,
        SendResult::Response {
            status: 200,
            retry_after: None,
            body: "ok".into()
        }
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn forbidden_literals_and_mixed_answers_are_refused_before_connecting() {
    let (addr, hits) = receiver(OK, Duration::ZERO).await;
    let c = client(&[], 2000, scripted(&[&["8.8.8.8", "127.0.0.1"]]));
    for url in [
        format!("http://127.0.0.1:{}/", addr.port()),
        format!("http://2130706433:{}/", addr.port()),
        format!("http://0x7f.1:{}/", addr.port()),
        format!("http://[::ffff:127.0.0.1]:{}/", addr.port()),
        format!("http://mixed.example:{}/", addr.port()),
    ] {
        assert!(c.check(&url).await.is_err(), "{url}");
        let r = c.post(&url, &[], b"{}").await;
        assert!(matches!(r, SendResult::Failed { .. }), "{url}: {r:?}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    let https_only = GuardedClient::new(
        OutboundPolicy::default(),
        Duration::from_secs(1),
        scripted(&[&["8.8.8.8"]]),
    )
    .unwrap();
    assert_eq!(
        https_only.check("http://hooks.example/").await,
        Err(Refusal::Scheme)
    );
}

#[tokio::test]
async fn redirects_are_not_followed_and_bodies_are_cut_at_4_kib() {
    let (addr, _) = receiver(
        "HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        Duration::ZERO,
    )
    .await;
    let c = client(&["127.0.0.1"], 2000, scripted(&[&["127.0.0.1"]]));
    let r = c
        .post(&format!("http://127.0.0.1:{}/", addr.port()), &[], b"{}")
        .await;
    assert!(
        matches!(r, SendResult::Response { status: 302, .. }),
        "{r:?}"
    );

    let big: &'static str = Box::leak(
        format!(
            "HTTP/1.1 500 Internal Server Error\r\nretry-after: 7\r\ncontent-length: 10000\r\nconnection: close\r\n\r\n{}",
            "x".repeat(10_000)
        )
        .into_boxed_str(),
    );
    let (addr, _) = receiver(big, Duration::ZERO).await;
    let r = c
        .post(&format!("http://127.0.0.1:{}/", addr.port()), &[], b"{}")
        .await;
    let SendResult::Response {
        status,
        retry_after,
        body,
    } = r
    else {
        panic!("{r:?}")
    };
    assert_eq!((status, retry_after), (500, Some(Duration::from_secs(7))));
    assert_eq!(body.len(), 4096);
}

#[tokio::test]
async fn a_slow_receiver_times_out() {
    let (addr, hits) = receiver(OK, Duration::from_secs(5)).await;
    let c = client(&["127.0.0.1"], 300, scripted(&[&["127.0.0.1"]]));
    let started = std::time::Instant::now();
    let r = c
        .post(&format!("http://127.0.0.1:{}/", addr.port()), &[], b"{}")
        .await;
    assert_eq!(
        r,
        SendResult::Failed {
            error: "timed out".into()
        }
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}
