//! `outboxctl dashboard`: a web page to watch the outbox and repair it, in the spirit of the
//! original's `/hangfire`.
//!
//! Security model (see the README):
//! - Every request's `Host` must name an IP address, `localhost`, or an `--allow-host` name, so a
//!   DNS-rebinding page cannot talk to a dashboard on loopback.
//! - Actions are POST only, and need the token: a session cookie from `/login` plus the
//!   session's CSRF field, or `Authorization: Bearer TOKEN` (which browsers never send on their
//!   own). A present `Origin` must be this dashboard (over http or https: a TLS proxy in front
//!   forwards the Host the browser used), and `Sec-Fetch-Site` must not be cross-site.
//! - Off loopback every page needs the token; on loopback pages are open and actions still
//!   need it. Without a configured token, actions are off.
//! - Pages are maud templates, which escape every value they interpolate; a per-response CSP
//!   nonce allows only the page's own script and style (compiled in from `assets/`).
//!
//! A request is parsed into a [`Route`] once and handled by one `match` in `Dashboard::route`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use maud::Markup;

use super::{Req, Resp};
use crate::error::StoreError;
use crate::store::{ListFilter, ListParams, RetrySelect, Store};

mod pages;

/// The newest rows of the audit trail the audit page shows (`outboxctl audit` shows any).
const AUDIT_ROWS: usize = 200;

/// Rows per page of a message list.
pub const PAGE_SIZE: usize = 50;
const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
const MAX_SESSIONS: usize = 10_000;
/// Rows deleted per transaction by the purge action, as `purge` does.
const PURGE_CHUNK: usize = 5_000;

/// What a request asks for, from its method and path alone.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Page(Page),
    LoginForm,
    Login,
    Logout,
    Action(ActionKind),
    /// A known path asked with a method it does not take: 405 with `Allow`.
    WrongMethod {
        allow: &'static str,
        problem: &'static str,
    },
    NotFound(&'static str),
}

/// The pages: GET (or HEAD) only; off loopback they need a login.
#[derive(Debug, PartialEq, Eq)]
enum Page {
    Overview,
    Messages,
    Message(String),
    Blocked,
    Audit,
}

impl Route {
    fn parse(method: &str, path: &str) -> Route {
        const PAGE_METHOD: Route = Route::WrongMethod {
            allow: "GET",
            problem: "method not allowed here; use GET",
        };
        if let Some(name) = path.strip_prefix("/actions/") {
            return match ActionKind::parse(name) {
                None => Route::NotFound("no such action"),
                Some(action) if method == "POST" => Route::Action(action),
                Some(_) => Route::WrongMethod {
                    allow: "POST",
                    problem: "actions are POST only",
                },
            };
        }
        let read = matches!(method, "GET" | "HEAD");
        match (method, path) {
            ("GET", "/login") => Route::LoginForm,
            ("POST", "/login") => Route::Login,
            (_, "/login") => Route::WrongMethod {
                allow: "GET, POST",
                problem: "method not allowed here; use GET, POST",
            },
            ("POST", "/logout") => Route::Logout,
            (_, "/logout") => Route::WrongMethod {
                allow: "POST",
                problem: "method not allowed here; use POST",
            },
            (_, "/") if read => Route::Page(Page::Overview),
            (_, "/messages") if read => Route::Page(Page::Messages),
            (_, "/blocked") if read => Route::Page(Page::Blocked),
            (_, "/audit") if read => Route::Page(Page::Audit),
            (_, p) if read && p.starts_with("/messages/") => {
                Route::Page(Page::Message(p["/messages/".len()..].to_owned()))
            }
            (_, p)
                if p == "/"
                    || p == "/messages"
                    || p == "/blocked"
                    || p == "/audit"
                    || p.starts_with("/messages/") =>
            {
                PAGE_METHOD
            }
            _ => Route::NotFound("no such page"),
        }
    }
}

/// The actions, each a POST to `/actions/NAME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Retry,
    RetryFailed,
    RetryDead,
    Purge,
    Skip,
}

impl ActionKind {
    fn parse(name: &str) -> Option<ActionKind> {
        Some(match name {
            "retry" => ActionKind::Retry,
            "retry-failed" => ActionKind::RetryFailed,
            "retry-dead" => ActionKind::RetryDead,
            "purge" => ActionKind::Purge,
            "skip" => ActionKind::Skip,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            ActionKind::Retry => "retry",
            ActionKind::RetryFailed => "retry-failed",
            ActionKind::RetryDead => "retry-dead",
            ActionKind::Purge => "purge",
            ActionKind::Skip => "skip",
        }
    }

    /// Where its form posts to.
    pub fn path(self) -> String {
        format!("/actions/{}", self.name())
    }
}

pub struct Settings {
    pub listen: SocketAddr,
    /// None: no token configured (only allowed on loopback); actions are then off.
    pub token: Option<String>,
    pub read_only: bool,
    /// Extra names accepted in the Host header, lower-case, without port.
    pub allow_hosts: Vec<String>,
    /// Off loopback every page needs the token, not only the actions.
    pub pages_need_login: bool,
}

struct Session {
    csrf: String,
    expires: Instant,
}

/// How a request proved it knows the token.
enum Auth {
    None,
    Bearer,
    Session { id: String, csrf: String },
}

/// What a page needs to know about who is looking.
pub struct Viewer {
    pub logged_in: bool,
    /// The CSRF field for forms, for a session.
    pub csrf: Option<String>,
    /// Actions are possible at all: a token is configured and not read-only.
    pub actions: bool,
    pub read_only: bool,
}

pub struct Dashboard {
    settings: Settings,
    store: Box<dyn Store>,
    /// A pinned time (tests, `OUTBOX_NOW`) or the system clock.
    now: Option<DateTime<Utc>>,
    sessions: HashMap<String, Session>,
}

/// Serves the dashboard on the current thread until `stop` is set.
pub fn serve(
    settings: Settings,
    store: Box<dyn Store>,
    now: Option<DateTime<Utc>>,
    stop: &AtomicBool,
) -> Result<(), crate::error::Error> {
    let server = super::bind(settings.listen)?;
    let mut dashboard = Dashboard {
        settings,
        store,
        now,
        sessions: HashMap::new(),
    };
    super::serve(&server, stop, |req| dashboard.handle(req));
    Ok(())
}

/// 32 random bytes from the OS generator, hex.
fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A path to send the browser back to: local only, never `//host` or `/\host`.
fn local_path(p: Option<&str>) -> String {
    match p {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.contains(['\r', '\n']) =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn redirect(to: &str) -> Resp {
    Resp::text(303, format!("see {to}\n")).with_header("Location", to)
}

impl Dashboard {
    fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }

    pub fn handle(&mut self, req: &Req) -> Resp {
        let nonce = random_token();
        let resp = match self.route(req, &nonce) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("dashboard: {e}");
                let code = match e {
                    StoreError::Busy { .. } | StoreError::Unavailable(_) => 503,
                    _ => 500,
                };
                self.page_error(code, &format!("the database could not be read: {e}"), &nonce)
            }
        };
        resp.with_header(
            "Content-Security-Policy",
            format!(
                "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; \
                 img-src 'self' data:; connect-src 'self'; form-action 'self'; \
                 frame-ancestors 'none'; base-uri 'none'"
            ),
        )
        .with_header("X-Frame-Options", "DENY")
        .with_header("X-Content-Type-Options", "nosniff")
        // Not no-referrer: with it browsers send `Origin: null` on form posts, which the CSRF check refuses.
        .with_header("Referrer-Policy", "same-origin")
        .with_header("Cache-Control", "no-store")
    }

    fn route(&mut self, req: &Req, nonce: &str) -> Result<Resp, StoreError> {
        if !self.host_allowed(req.header("host")) {
            return Ok(self.page_error(
                403,
                "this dashboard does not answer to that Host name (start it with --allow-host NAME to add one)",
                nonce,
            ));
        }
        let auth = self.authenticate(req);
        match Route::parse(&req.method, &req.path) {
            Route::Page(page) => self.page(page, req, &auth, nonce),
            Route::Action(action) => self.action(action, req, &auth, nonce),
            Route::LoginForm => Ok(self.login_page(req, nonce, 200, None)),
            Route::Login => Ok(self.login(req, nonce)),
            Route::Logout => Ok(self.logout(req, &auth, nonce)),
            Route::WrongMethod { allow, problem } => {
                Ok(self.page_error(405, problem, nonce).with_header("Allow", allow))
            }
            Route::NotFound(what) => Ok(self.page_error(404, what, nonce)),
        }
    }

    fn page(&mut self, page: Page, req: &Req, auth: &Auth, nonce: &str) -> Result<Resp, StoreError> {
        if self.settings.pages_need_login && matches!(auth, Auth::None) {
            let next = format!("{}{}", req.path, query_suffix(req));
            return Ok(redirect(&format!("/login?next={}", super::percent_encode(&next))));
        }
        let viewer = self.viewer(auth);
        let (title, body) = match page {
            Page::Overview => ("Overview", self.overview(req, &viewer)?),
            Page::Messages => ("Messages", self.list(req)?),
            Page::Blocked => ("Blocked keys", self.blocked(req, &viewer)?),
            Page::Audit => (
                "Audit trail",
                pages::audit(&self.store.audit_log(None, AUDIT_ROWS)?),
            ),
            Page::Message(id) => match self.store.get(&id)? {
                Some(detail) => (
                    "Message",
                    pages::detail(&detail, self.now(), &viewer, &current(req)),
                ),
                None => return Ok(self.page_error(404, "no message with that id", nonce)),
            },
        };
        let notice = req.query("notice").and_then(pages::notice_text);
        Ok(Resp::new(
            200,
            "text/html; charset=utf-8",
            pages::layout(title, body, nonce, &viewer, notice.as_deref()),
        ))
    }

    fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(host) = host else { return false };
        let host = host.trim().to_ascii_lowercase();
        // Strip the port: "[::1]:7700", "127.0.0.1:7700", "name:7700".
        let name = if let Some(rest) = host.strip_prefix('[') {
            match rest.split_once(']') {
                Some((ip, _)) => ip.to_owned(),
                None => return false,
            }
        } else {
            host.rsplit_once(':').map_or(host.as_str(), |(n, _)| n).to_owned()
        };
        // A rebinding attack needs its own DNS name in Host; IP literals cannot carry one.
        name == "localhost"
            || name.parse::<std::net::IpAddr>().is_ok()
            || self.settings.allow_hosts.contains(&name)
    }

    fn authenticate(&mut self, req: &Req) -> Auth {
        let Some(token) = self.settings.token.clone() else {
            return Auth::None;
        };
        if let Some(given) = req
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            return if same_secret(given.trim(), &token) {
                Auth::Bearer
            } else {
                Auth::None
            };
        }
        let cookie_name = self.cookie_name();
        let id = req.header("cookie").and_then(|c| {
            c.split(';').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == cookie_name).then(|| v.to_owned())
            })
        });
        let now = Instant::now();
        match id.and_then(|id| self.sessions.get(&id).map(|s| (id, s))) {
            Some((id, s)) if s.expires > now => Auth::Session {
                csrf: s.csrf.clone(),
                id,
            },
            _ => Auth::None,
        }
    }

    /// Cookies are shared between ports of one host: one name per dashboard port.
    fn cookie_name(&self) -> String {
        format!("outboxctl_session_{}", self.settings.listen.port())
    }

    fn viewer(&self, auth: &Auth) -> Viewer {
        Viewer {
            logged_in: !matches!(auth, Auth::None),
            csrf: match auth {
                Auth::Session { csrf, .. } => Some(csrf.clone()),
                _ => None,
            },
            actions: self.settings.token.is_some() && !self.settings.read_only,
            read_only: self.settings.read_only,
        }
    }

    /// Refuses what a browser sends from another site: a foreign `Origin`, or
    /// `Sec-Fetch-Site: cross-site`/`same-site`. Clients that send neither (curl) pass.
    /// The Origin's scheme may be http or https: behind a TLS reverse proxy the browser says
    /// `https://name` while the proxy forwards `Host: name` over plain HTTP. The Host itself
    /// was checked (`host_allowed`), so the origin is an allowed name either way.
    fn same_origin(&self, req: &Req) -> bool {
        if let Some(site) = req.header("sec-fetch-site")
            && !matches!(site, "same-origin" | "none")
        {
            return false;
        }
        match (req.header("origin"), req.header("host")) {
            (Some(origin), Some(host)) => origin.split_once("://").is_some_and(|(scheme, rest)| {
                (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
                    && rest.eq_ignore_ascii_case(host.trim())
            }),
            (Some(_), None) => false,
            (None, _) => true,
        }
    }

    fn action(
        &mut self,
        action: ActionKind,
        req: &Req,
        auth: &Auth,
        nonce: &str,
    ) -> Result<Resp, StoreError> {
        if !self.same_origin(req) {
            return Ok(self.page_error(403, "cross-site request refused", nonce));
        }
        if self.settings.read_only {
            return Ok(self.page_error(403, "the dashboard is read-only (--read-only)", nonce));
        }
        if self.settings.token.is_none() {
            return Ok(self.page_error(
                403,
                "actions are off: start the dashboard with OUTBOX_DASHBOARD_TOKEN or --token-file",
                nonce,
            ));
        }
        match auth {
            Auth::None => {
                return Ok(self
                    .page_error(401, "this action needs the token: log in first", nonce)
                    .with_header("WWW-Authenticate", "Bearer"));
            }
            Auth::Bearer => {}
            Auth::Session { csrf, .. } => {
                if !req.field("csrf").is_some_and(|f| same_secret(f, csrf)) {
                    return Ok(self.page_error(
                        403,
                        "the form's CSRF token is missing or stale: reload the page and try again",
                        nonce,
                    ));
                }
            }
        }
        let viewer = self.viewer(auth);
        let back = local_path(req.field("back"));
        let now = self.now();
        let act = match Action::parse(action, req) {
            Ok(a) => a,
            Err(problem) => return Ok(self.page_error(400, problem, nonce)),
        };
        // The audit trail's row: the dashboard's session, and what it asked for.
        let what = match &act {
            Action::Retry(RetrySelect::Ids(ids)) | Action::Skip(ids) => ids.join(" "),
            Action::Purge { text, .. } => format!("older than {text}"),
            Action::Retry(_) => String::new(),
        };
        let audit = crate::store::Audit::new(
            now,
            "dashboard",
            format!("dashboard {} {what}", action.name()).trim_end(),
        );
        if req.field("confirm") != Some("yes") {
            let (question, count) = match &act {
                Action::Retry(select) => {
                    let n = self.store.retry(select, now, true, &audit)?;
                    let q = match select {
                        RetrySelect::Ids(ids) => format!("Retry message {} now?", ids.join(", ")),
                        RetrySelect::Failed => format!("Retry all {n} failing messages now?"),
                        RetrySelect::Dead => {
                            format!("Retry all {n} dead messages now, each with a fresh set of attempts?")
                        }
                    };
                    (q, n)
                }
                Action::Skip(ids) => {
                    let n = self.store.skip(ids, now, true, &audit)?;
                    (
                        format!(
                            "Skip message {} now? It will not be delivered (it stays, marked skipped), \
                             and the later messages of its ordering key go on.",
                            ids.join(", ")
                        ),
                        n,
                    )
                }
                Action::Purge { text, age } => {
                    let n = self.store.count_purgeable(now - *age)?;
                    (
                        format!("Delete {n} processed messages processed more than {text} ago?"),
                        n,
                    )
                }
            };
            let mut fields: Vec<(&str, String)> = vec![("back", back.clone())];
            match &act {
                Action::Retry(RetrySelect::Ids(ids)) | Action::Skip(ids) => {
                    fields.extend(ids.iter().map(|i| ("id", i.clone())));
                }
                Action::Purge { text, .. } => fields.push(("older_than", text.clone())),
                Action::Retry(_) => {}
            }
            let body = pages::confirm(action, &question, count, &fields, &viewer, &back);
            return Ok(Resp::new(
                200,
                "text/html; charset=utf-8",
                pages::layout("Confirm", body, nonce, &viewer, None),
            ));
        }
        let notice = match &act {
            Action::Retry(select) => {
                let n = self.store.retry(select, now, false, &audit)?;
                tracing::info!(action = action.name(), retried = n, "dashboard action");
                format!("retried-{n}")
            }
            Action::Skip(ids) => {
                let n = self.store.skip(ids, now, false, &audit)?;
                tracing::info!(action = action.name(), skipped = n, "dashboard action");
                format!("skipped-{n}")
            }
            Action::Purge { age, .. } => {
                let before = now - *age;
                let mut deleted = 0;
                loop {
                    let n = self.store.purge_chunk(before, PURGE_CHUNK, &audit)?;
                    deleted += n;
                    if n < PURGE_CHUNK as u64 {
                        break;
                    }
                    // Leave the write lock free a moment, so the application's writes get in.
                    std::thread::sleep(Duration::from_millis(2));
                }
                tracing::info!(action = action.name(), deleted, "dashboard action");
                format!("purged-{deleted}")
            }
        };
        let sep = if back.contains('?') { '&' } else { '?' };
        Ok(redirect(&format!("{back}{sep}notice={notice}")))
    }

    fn login_page(&self, req: &Req, nonce: &str, status: u16, problem: Option<&str>) -> Resp {
        let next = local_path(req.query("next").or(req.field("next")));
        let viewer = self.viewer(&Auth::None);
        let body = pages::login(&next, self.settings.token.is_some(), problem);
        Resp::new(
            status,
            "text/html; charset=utf-8",
            pages::layout("Log in", body, nonce, &viewer, None),
        )
    }

    fn login(&mut self, req: &Req, nonce: &str) -> Resp {
        if !self.same_origin(req) {
            return self.page_error(403, "cross-site request refused", nonce);
        }
        let Some(token) = self.settings.token.clone() else {
            return self.login_page(
                req,
                nonce,
                403,
                Some("no token is configured, so there is nothing to log in to"),
            );
        };
        if !req.field("token").is_some_and(|t| same_secret(t.trim(), &token)) {
            tracing::warn!("dashboard: a login with a wrong token");
            return self.login_page(req, nonce, 401, Some("wrong token"));
        }
        let now = Instant::now();
        self.sessions.retain(|_, s| s.expires > now);
        if self.sessions.len() >= MAX_SESSIONS {
            self.sessions.clear();
        }
        let id = random_token();
        self.sessions.insert(
            id.clone(),
            Session {
                csrf: random_token(),
                expires: now + SESSION_LIFETIME,
            },
        );
        let next = local_path(req.field("next"));
        redirect(&next).with_header(
            "Set-Cookie",
            format!(
                "{}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                self.cookie_name(),
                SESSION_LIFETIME.as_secs()
            ),
        )
    }

    fn logout(&mut self, req: &Req, auth: &Auth, nonce: &str) -> Resp {
        if !self.same_origin(req) {
            return self.page_error(403, "cross-site request refused", nonce);
        }
        if let Auth::Session { id, csrf } = auth {
            if !req.field("csrf").is_some_and(|f| same_secret(f, csrf)) {
                return self.page_error(403, "the form's CSRF token is missing or stale", nonce);
            }
            self.sessions.remove(id);
        }
        redirect("/").with_header(
            "Set-Cookie",
            format!(
                "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
                self.cookie_name()
            ),
        )
    }

    fn overview(&mut self, req: &Req, viewer: &Viewer) -> Result<Markup, StoreError> {
        let now = self.now();
        let range = pages::Range::parse(req.query("range"));
        let stats = self.store.stats(now)?;
        let bucket = range.bucket();
        let secs = bucket.as_secs() as i64;
        let first = (now.timestamp() / secs - range.buckets() as i64 + 1) * secs;
        let since = DateTime::from_timestamp(first, 0).unwrap_or(now);
        let until = DateTime::from_timestamp((now.timestamp() / secs + 1) * secs, 0).unwrap_or(now);
        let activity = self.store.activity(since, until, bucket)?;
        Ok(pages::overview(&stats, &activity, since, range, now, viewer))
    }

    fn list(&mut self, req: &Req) -> Result<Markup, StoreError> {
        let now = self.now();
        let state = pages::ListState::parse(req.query("state"));
        let event_type = req.query("type").filter(|t| !t.is_empty()).map(str::to_owned);
        let page = req
            .query("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let stats = self.store.stats(now)?;
        let counts = match &event_type {
            Some(t) => stats
                .by_type
                .iter()
                .find(|c| &c.event_type == t)
                .map(|c| c.counts.clone())
                .unwrap_or_default(),
            None => stats.counts.clone(),
        };
        let total = state.count(&counts);
        let filter: ListFilter = state.filter();
        let rows = self.store.list_page(
            &ListParams {
                filter,
                event_type: event_type.clone(),
                limit: PAGE_SIZE,
            },
            // A page past any real one (even usize::MAX) is an empty page, not an overflow.
            (page - 1).saturating_mul(PAGE_SIZE),
        )?;
        let types: Vec<String> = stats.by_type.iter().map(|t| t.event_type.clone()).collect();
        Ok(pages::list(&pages::ListView {
            state,
            event_type: event_type.as_deref(),
            types: &types,
            page,
            total,
            rows: &rows,
            now,
        }))
    }

    fn blocked(&mut self, req: &Req, viewer: &Viewer) -> Result<Markup, StoreError> {
        let now = self.now();
        let total = self.store.stats(now)?.blocked_keys;
        let last = (total as usize).div_ceil(PAGE_SIZE).max(1);
        // Clamped: the page sets how many rows are read below, so a huge one must not overflow it.
        let page = req
            .query("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .clamp(1, last);
        let rows = self.store.blocked_keys(PAGE_SIZE, (page - 1) * PAGE_SIZE)?;
        Ok(pages::blocked(&pages::BlockedView {
            page,
            total,
            rows: &rows,
            now,
            viewer,
            back: &current(req),
        }))
    }

    fn page_error(&self, status: u16, message: &str, nonce: &str) -> Resp {
        let viewer = self.viewer(&Auth::None);
        Resp::new(
            status,
            "text/html; charset=utf-8",
            pages::layout("Error", pages::error(status, message), nonce, &viewer, None),
        )
    }
}

/// What an action form asks for, validated.
enum Action {
    Retry(RetrySelect),
    Skip(Vec<String>),
    Purge { text: String, age: chrono::Duration },
}

impl Action {
    fn parse(kind: ActionKind, req: &Req) -> Result<Action, &'static str> {
        match kind {
            ActionKind::Retry => Ok(Action::Retry(RetrySelect::Ids(one_id(req)?))),
            ActionKind::Skip => Ok(Action::Skip(one_id(req)?)),
            ActionKind::RetryFailed => Ok(Action::Retry(RetrySelect::Failed)),
            ActionKind::RetryDead => Ok(Action::Retry(RetrySelect::Dead)),
            ActionKind::Purge => {
                let text = req.field("older_than").unwrap_or_default().trim();
                crate::duration::parse_positive(text)
                    .ok()
                    .and_then(|d| chrono::Duration::from_std(d).ok())
                    .map(|age| Action::Purge {
                        text: text.to_owned(),
                        age,
                    })
                    .ok_or("older than: write a duration like 7d or 12h")
            }
        }
    }
}

/// The form's message id, for the actions on one message.
fn one_id(req: &Req) -> Result<Vec<String>, &'static str> {
    match req.field("id").map(str::trim) {
        Some(id) if !id.is_empty() => Ok(vec![id.to_owned()]),
        _ => Err("which message? the form has no id"),
    }
}

fn query_suffix(req: &Req) -> String {
    if req.query.is_empty() {
        return String::new();
    }
    let q: Vec<String> = req
        .query
        .iter()
        .map(|(k, v)| format!("{}={}", super::percent_encode(k), super::percent_encode(v)))
        .collect();
    format!("?{}", q.join("&"))
}

/// The page's own URL without a notice, for forms to come back to.
fn current(req: &Req) -> String {
    let q: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| k != "notice")
        .map(|(k, v)| format!("{}={}", super::percent_encode(k), super::percent_encode(v)))
        .collect();
    if q.is_empty() {
        req.path.clone()
    } else {
        format!("{}?{}", req.path, q.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/messages?state=dead")), "/messages?state=dead");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn requests_map_to_routes() {
        use Route::*;
        assert_eq!(Route::parse("GET", "/"), Page(super::Page::Overview));
        assert_eq!(Route::parse("HEAD", "/messages"), Page(super::Page::Messages));
        assert_eq!(
            Route::parse("GET", "/messages/a b"),
            Page(super::Page::Message("a b".into()))
        );
        assert_eq!(Route::parse("GET", "/login"), LoginForm);
        assert_eq!(Route::parse("POST", "/login"), Login);
        assert_eq!(Route::parse("POST", "/logout"), Logout);
        assert_eq!(
            Route::parse("POST", "/actions/retry-dead"),
            Action(ActionKind::RetryDead)
        );
        assert_eq!(Route::parse("GET", "/blocked"), Page(super::Page::Blocked));
        assert_eq!(Route::parse("GET", "/audit"), Page(super::Page::Audit));
        assert_eq!(Route::parse("POST", "/actions/skip"), Action(ActionKind::Skip));
        for (method, path, allow) in [
            ("GET", "/actions/purge", "POST"),
            ("PUT", "/login", "GET, POST"),
            ("GET", "/logout", "POST"),
            ("POST", "/", "GET"),
            ("DELETE", "/messages/x", "GET"),
            ("POST", "/blocked", "GET"),
            ("GET", "/actions/skip", "POST"),
        ] {
            assert!(
                matches!(Route::parse(method, path), WrongMethod { allow: a, .. } if a == allow),
                "{method} {path}"
            );
        }
        for (method, path) in [
            ("POST", "/actions/nope"),
            ("GET", "/nowhere"),
            ("GET", "/messagesx"),
        ] {
            assert!(
                matches!(Route::parse(method, path), NotFound(_)),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
