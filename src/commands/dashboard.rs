use anyhow::Result;

use super::Context;
use crate::cli::DashboardArgs;
use crate::error::Error;

#[cfg(feature = "web")]
pub fn run(args: &DashboardArgs, ctx: &Context) -> Result<()> {
    use crate::web::dashboard::{Settings, serve};
    /// Tokens shorter than this are refused: the token is all that guards the actions.
    const MIN_TOKEN_LEN: usize = 16;

    let token = match &args.token_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| Error::usage(format!("cannot read --token-file {}: {e}", path.display())))?
                .trim()
                .to_owned(),
        ),
        None => crate::config::dashboard_token_env(),
    };
    if let Some(t) = &token
        && t.chars().count() < MIN_TOKEN_LEN
    {
        return Err(Error::usage(format!(
            "the dashboard token must be at least {MIN_TOKEN_LEN} characters (e.g. from `openssl rand -hex 32`)"
        ))
        .into());
    }
    let loopback = args.listen.ip().is_loopback();
    if !loopback && token.is_none() {
        return Err(Error::usage(format!(
            "listening on {} (not loopback) needs a token: set OUTBOX_DASHBOARD_TOKEN or pass --token-file",
            args.listen
        ))
        .into());
    }
    let stop = ctx.stop_on_signals()?;
    let store = ctx.open_store()?;
    let actions = match (&token, args.read_only) {
        (_, true) => "read-only",
        (None, false) => "actions off (no token set)",
        (Some(_), false) => "actions need the token",
    };
    tracing::info!("dashboard on http://{}/ ({actions})", args.listen);
    serve(
        Settings {
            listen: args.listen,
            token,
            read_only: args.read_only,
            allow_hosts: args
                .allow_host
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            pages_need_login: !loopback,
        },
        store,
        ctx.config.now,
        &stop,
    )?;
    Ok(())
}

#[cfg(not(feature = "web"))]
pub fn run(_: &DashboardArgs, _: &Context) -> Result<()> {
    Err(Error::usage("the dashboard needs outboxctl built with the `web` feature").into())
}
