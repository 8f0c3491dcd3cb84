use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Result;

use super::Context;
use crate::cli::RunArgs;
use crate::error::Error;
use crate::relay::{BatchReport, Relay};
use crate::sink::Router;
use crate::store::sleep_unless_stopped;

enum Schedule {
    /// Poll at least this often; the store may wake the relay sooner when messages arrive.
    Every(Duration),
    Cron(Box<croner::Cron>),
}

pub fn run(args: &RunArgs, ctx: &Context) -> Result<()> {
    let schedule = match &args.cron {
        Some(expr) => {
            Schedule::Cron(Box::new(croner::Cron::from_str(expr).map_err(|e| {
                Error::usage(format!("invalid --cron expression {expr:?}: {e}"))
            })?))
        }
        None => Schedule::Every(args.every.unwrap_or(ctx.config.every)),
    };
    let stop = ctx.stop_on_signals()?;
    let metrics = match args.metrics_listen {
        Some(addr) => Some(serve_metrics(addr, ctx, &stop)?),
        None => None,
    };
    let observe = |f: &dyn Fn(&mut crate::metrics::RelayMetrics)| {
        if let Some(m) = &metrics {
            f(&mut m.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        }
    };
    let settings = super::process_once::settings(ctx, args.batch_size);
    let mut store = ctx.open_store()?;
    let mut router = Router::new(&ctx.config.sinks, &ctx.config.routes);
    tracing::info!(owner = %settings.owner, backend = store.backend(), "relay started");

    let mut total = BatchReport::default();
    let mut backoff = Duration::from_millis(500);
    while !stop.load(Ordering::Relaxed) {
        let pass = Relay {
            store: store.as_mut(),
            router: &mut router,
            clock: ctx.clock.as_ref(),
            settings: &settings,
        }
        .run_once(&stop);
        match pass {
            Ok(report) => {
                observe(&|m| m.observe(&report));
                backoff = Duration::from_millis(500);
                total.add(&report);
                if report.claimed > 0 {
                    tracing::debug!(?report, "batch done");
                }
                if report.full(settings.batch_size) {
                    continue; // more is waiting: drain without waiting for the next tick
                }
            }
            Err(e) => {
                observe(&|m| m.observe_error(&e));
                // The database went away or is locked: nothing is lost, claims expire.
                tracing::error!("{e}; trying again in {}", humantime::format_duration(backoff));
                sleep_unless_stopped(backoff, &stop, || Ok(false))?;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        }
        let waited = match &schedule {
            Schedule::Every(every) => {
                let now = ctx.now();
                let wait = match store.next_due(now) {
                    Ok(Some(at)) => (at - now).to_std().unwrap_or_default().min(*every),
                    _ => *every,
                };
                store.wait_for_work(wait, &stop)
            }
            Schedule::Cron(cron) => {
                let now = chrono::Utc::now();
                let wait = cron
                    .find_next_occurrence(&now, false)
                    .map(|next| (next - now).to_std().unwrap_or_default())
                    .unwrap_or(Duration::from_secs(60));
                sleep_unless_stopped(wait, &stop, || Ok(false))
            }
        };
        if let Err(e) = waited {
            tracing::error!("{e}");
            sleep_unless_stopped(backoff, &stop, || Ok(false))?;
        }
    }
    tracing::info!(
        delivered = total.delivered,
        failed = total.failed,
        dead = total.dead,
        "relay stopped"
    );
    Ok(())
}

type SharedMetrics = std::sync::Arc<std::sync::Mutex<crate::metrics::RelayMetrics>>;

#[cfg(feature = "web")]
fn serve_metrics(
    addr: std::net::SocketAddr,
    ctx: &Context,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<SharedMetrics> {
    let shared = SharedMetrics::default();
    crate::web::metrics::spawn(addr, ctx.config.clone(), shared.clone(), stop.clone())?;
    tracing::info!("serving /metrics and /healthz on http://{addr}");
    Ok(shared)
}

#[cfg(not(feature = "web"))]
fn serve_metrics(
    _: std::net::SocketAddr,
    _: &Context,
    _: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<SharedMetrics> {
    Err(Error::usage("--metrics-listen needs outboxctl built with the `web` feature").into())
}
