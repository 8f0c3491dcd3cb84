//! `run --metrics-listen`: `/metrics` (Prometheus) and `/healthz` beside the relay loop.

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Result;

use super::{Req, Resp};
use crate::config::Config;
use crate::metrics::RelayMetrics;
use crate::store::{self, Store};

/// Binds now (so a taken port fails the command at once) and serves on a thread of its own,
/// with its own database connection, until `stop` is set.
pub fn spawn(
    addr: SocketAddr,
    config: Config,
    relay: Arc<Mutex<RelayMetrics>>,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    let server = super::bind(addr)?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            let mut store: Option<Box<dyn Store>> = None;
            super::serve(&server, &stop, |req| handle(req, &config, &mut store, &relay));
        })?;
    Ok(())
}

fn handle(
    req: &Req,
    config: &Config,
    store: &mut Option<Box<dyn Store>>,
    relay: &Mutex<RelayMetrics>,
) -> Resp {
    let relay = || relay.lock().unwrap_or_else(PoisonError::into_inner).clone();
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/metrics") => {
            let stats = read_stats(config, store);
            if let Err(e) = &stats {
                tracing::warn!("metrics: {e}");
            }
            let text = crate::metrics::render(stats.as_ref().ok(), Some(&relay()));
            Resp::new(200, "text/plain; version=0.0.4; charset=utf-8", text)
        }
        ("GET", "/healthz") => match relay().last_error {
            None => Resp::text(200, "ok\n"),
            Some(e) => Resp::text(503, format!("relay cannot use the database: {e}\n")),
        },
        (_, "/metrics" | "/healthz") => Resp::text(405, "use GET\n").with_header("Allow", "GET"),
        _ => Resp::text(404, "not found: try /metrics or /healthz\n"),
    }
}

/// Opens the connection on first use and again after an error, so an outage heals by itself.
fn read_stats(
    config: &Config,
    store: &mut Option<Box<dyn Store>>,
) -> Result<crate::model::Stats, crate::error::StoreError> {
    let open = match store {
        Some(s) => s,
        None => store.insert(store::open(&config.database, &config.store)?),
    };
    let result = open.stats(config.now.unwrap_or_else(chrono::Utc::now));
    if result.is_err() {
        *store = None;
    }
    result
}
