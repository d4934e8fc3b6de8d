//! Captures the process's log output so tests can check what is (and is not) logged.

use std::io::Write;
use std::sync::{Mutex, Once};

static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static INIT: Once = Once::new();

struct Sink;

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = BUFFER.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs a process-wide subscriber at trace level for the portal's crates.
pub(crate) fn init() {
    INIT.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::new(
            "portal_api=trace,portal_http=trace,portal_web=trace,portal_store=debug,portal_core=debug,warn",
        );
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .json()
            .with_writer(|| Sink)
            .try_init();
    });
}

/// Everything logged so far by every app in this test process.
pub fn captured_logs() -> String {
    BUFFER
        .lock()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}
