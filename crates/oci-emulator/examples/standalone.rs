//! Run the emulator as a standalone server, e.g. for the OCI Python SDK smoke test:
//!
//! ```text
//! cargo run --example standalone -- --bind 127.0.0.1:8080 --data-dir /tmp/emu [--delay-ms 2000]
//! ```
//!
//! Prints the OCI config file path and the endpoint, then serves until Ctrl-C.

use std::time::Duration;

use portal_oci_emulator::{Emulator, EmulatorConfig};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let bind = arg(&args, "--bind").unwrap_or_else(|| "127.0.0.1:8080".into());
    let data_dir = arg(&args, "--data-dir").ok_or("--data-dir is required")?;
    let mut config = EmulatorConfig::new(data_dir);
    if let Some(ms) = arg(&args, "--delay-ms") {
        config.transition_delay = Duration::from_millis(ms.parse()?);
    }
    if let Some(region) = arg(&args, "--region") {
        config.region = region;
    }
    let emulator = Emulator::open(config)?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("config: {}", emulator.config_path().display());
    println!("endpoint: http://{}", listener.local_addr()?);
    emulator
        .serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
