use anyhow::Result;

use super::Context;
use crate::cli::RunArgs;
use crate::error::Error;
use crate::runner::{Event, Runner, Schedule};
use crate::sink::Router;

pub fn run(args: &RunArgs, ctx: &Context) -> Result<()> {
    let schedule = match &args.cron {
        Some(expr) => Schedule::cron(expr).map_err(Error::usage)?,
        None => Schedule::Every(args.every.unwrap_or(ctx.config.every)),
    };
    let stop = ctx.stop_on_signals()?;
    let metrics = match args.metrics_listen {
        Some(addr) => Some(serve_metrics(addr, ctx, &stop)?),
        None => None,
    };
    let settings = ctx.config.relay_settings(args.batch_size);
    let mut store = ctx.open_relay_store()?;
    let mut router = Router::new(&ctx.config.sinks, &ctx.config.routes);
    Runner {
        store: store.as_mut(),
        router: &mut router,
        clock: ctx.clock.as_ref(),
        settings: &settings,
        schedule: &schedule,
    }
    .run(&stop, &mut |event| {
        if let Some(m) = &metrics {
            let mut m = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match event {
                Event::Pass(report) => m.observe(report),
                Event::Error(e) => m.observe_error(e),
            }
        }
    });
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
