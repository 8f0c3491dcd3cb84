//! The dashboard's HTML, rendered on the server. Everything that came from the database (types,
//! contents, errors, ids, owners) is attacker-controlled and goes through [`esc`].

use std::fmt::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{PAGE_SIZE, Viewer};
use crate::model::{ActivityBucket, Counts, Message, MessageDetail, State, Stats};
use crate::store::ListFilter;
use crate::web::percent_encode;

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "–".into())
}

fn age(seconds: f64) -> String {
    let d = Duration::from_secs(seconds.max(0.0) as u64);
    if d.is_zero() {
        return "0s".into();
    }
    humantime::format_duration(d).to_string()
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Notices after an action come back as a fixed code and a number, never as free text.
pub fn notice_text(code: &str) -> Option<String> {
    let (what, n) = code.rsplit_once('-')?;
    let n: u64 = n.parse().ok()?;
    let plural = if n == 1 { "" } else { "s" };
    match what {
        "retried" => Some(format!("Retried {n} message{plural}: due now.")),
        "purged" => Some(format!("Deleted {n} processed message{plural}.")),
        _ => None,
    }
}

const STYLE: &str = r#"
:root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#f6f7f9; --ok:#12805c; --bad:#c4320a; --warn:#b54708; --link:#1f5fbf; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { background:#1d2330; color:#fff; padding:10px 24px; display:flex; align-items:center; gap:24px; flex-wrap:wrap; }
header a { color:#cfd6e4; text-decoration:none; } header a.on, header a:hover { color:#fff; }
header .brand { font-weight:700; color:#fff; margin-right:8px; }
header form { margin:0; } header .right { margin-left:auto; display:flex; gap:12px; align-items:center; }
.badge { background:#b54708; color:#fff; border-radius:4px; padding:1px 6px; font-size:12px; }
main { padding:20px 24px; max-width:1200px; }
h1 { font-size:20px; margin:0 0 14px; } h2 { font-size:16px; margin:22px 0 10px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(150px, 1fr)); gap:12px; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 14px; text-decoration:none; color:inherit; display:block; }
.card .n { font-size:26px; font-weight:650; } .card .l { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card.bad .n { color:var(--bad); } .card.ok .n { color:var(--ok); } .card.warn .n { color:var(--warn); }
table { border-collapse:collapse; width:100%; background:#fff; border:1px solid var(--line); border-radius:8px; overflow:hidden; }
th, td { text-align:left; padding:7px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#fafbfc; color:var(--muted); font-weight:600; font-size:12px; text-transform:uppercase; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
code, pre { font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:12.5px; }
pre { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px; overflow:auto; white-space:pre-wrap; word-break:break-word; }
a { color:var(--link); }
.tabs { display:flex; gap:6px; margin-bottom:12px; flex-wrap:wrap; align-items:center; }
.tabs a { padding:5px 12px; border-radius:16px; background:#fff; border:1px solid var(--line); text-decoration:none; color:var(--fg); }
.tabs a.on { background:var(--fg); color:#fff; border-color:var(--fg); }
.tabs form { margin-left:auto; display:flex; gap:6px; }
.state { font-size:12px; padding:1px 7px; border-radius:10px; background:#eef1f5; white-space:nowrap; }
.state.dead { background:#fde7e2; color:var(--bad); } .state.retrying { background:#fef0c7; color:var(--warn); }
.state.processed { background:#dcfae6; color:var(--ok); } .state.in_flight { background:#e0eaff; color:#1f5fbf; }
.err { color:var(--bad); }
.muted { color:var(--muted); }
.notice { background:#dcfae6; border:1px solid #abefc6; border-radius:8px; padding:8px 12px; margin-bottom:14px; }
.actions { display:flex; gap:12px; flex-wrap:wrap; align-items:center; background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px; }
.actions form { display:flex; gap:6px; align-items:center; margin:0; }
button { font:inherit; padding:5px 12px; border-radius:6px; border:1px solid #98a2b3; background:#fff; cursor:pointer; }
button.primary { background:#1f5fbf; border-color:#1f5fbf; color:#fff; } button.danger { background:var(--bad); border-color:var(--bad); color:#fff; }
input, select { font:inherit; padding:4px 8px; border:1px solid #98a2b3; border-radius:6px; background:#fff; }
.pager { display:flex; gap:12px; align-items:center; margin-top:10px; }
.chart { background:#fff; border:1px solid var(--line); border-radius:8px; padding:8px; }
.chart svg { width:100%; height:auto; display:block; }
.legend { display:flex; gap:16px; font-size:12px; color:var(--muted); padding:4px 8px; align-items:center; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; }
.legend .p { background:#12805c; } .legend .f { background:#c4320a; }
#refreshed { font-size:12px; color:#98a2b3; }
.box { max-width:420px; background:#fff; border:1px solid var(--line); border-radius:8px; padding:18px; }
"#;

/// Reloads the part of the page marked `live` every few seconds, without touching forms.
const SCRIPT: &str = r#"
(function () {
  var live = document.getElementById('live');
  var mark = document.getElementById('refreshed');
  if (!live) return;
  setInterval(function () {
    if (document.hidden) return;
    fetch(location.href, { credentials: 'same-origin', headers: { 'X-Refresh': '1' } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('live');
        if (fresh) live.innerHTML = fresh.innerHTML;
        if (mark) mark.textContent = 'updated ' + new Date().toLocaleTimeString();
      })
      .catch(function () { if (mark) mark.textContent = 'update failed, retrying'; });
  }, 5000);
})();
"#;

fn csrf_field(viewer: &Viewer) -> String {
    viewer
        .csrf
        .as_deref()
        .map(|c| format!(r#"<input type="hidden" name="csrf" value="{}">"#, esc(c)))
        .unwrap_or_default()
}

pub fn layout(title: &str, body: &str, nonce: &str, viewer: &Viewer, notice: Option<&str>) -> String {
    let nonce = esc(nonce);
    let mut nav = String::new();
    for (href, label) in [
        ("/", "Overview"),
        ("/messages?state=unprocessed", "Unprocessed"),
        ("/messages?state=failed", "Failing"),
        ("/messages?state=dead", "Dead"),
        ("/messages?state=processed", "Processed"),
    ] {
        let _ = write!(nav, r#"<a href="{href}">{label}</a>"#);
    }
    let mut right = String::new();
    if viewer.read_only {
        right.push_str(r#"<span class="badge">read-only</span>"#);
    }
    if viewer.logged_in && viewer.csrf.is_some() {
        let _ = write!(
            right,
            r#"<form method="post" action="/logout">{}<button type="submit">Log out</button></form>"#,
            csrf_field(viewer)
        );
    } else if viewer.actions && !viewer.logged_in {
        right.push_str(r#"<a href="/login">Log in</a>"#);
    }
    right.push_str(r#"<span id="refreshed"></span>"#);
    let notice = notice
        .map(|n| format!(r#"<div class="notice" id="notice">{}</div>"#, esc(n)))
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · outboxctl</title><style nonce="{nonce}">{STYLE}</style></head>
<body><header><span class="brand">outboxctl</span>{nav}<div class="right">{right}</div></header>
<main>{notice}{body}</main><script nonce="{nonce}">{SCRIPT}</script></body></html>
"#,
        title = esc(title)
    )
}

pub fn error(status: u16, message: &str) -> String {
    format!(
        r#"<h1>{status}</h1><p class="err" id="error">{}</p><p><a href="/">Back to the overview</a></p>"#,
        esc(message)
    )
}

pub fn login(next: &str, token_configured: bool, problem: Option<&str>) -> String {
    if !token_configured {
        return r#"<div class="box"><h1>Log in</h1><p>No token is configured, so actions are off.
Start the dashboard with <code>OUTBOX_DASHBOARD_TOKEN</code> or <code>--token-file</code> to enable them.</p></div>"#
            .into();
    }
    let problem = problem
        .map(|p| format!(r#"<p class="err" id="error">{}</p>"#, esc(p)))
        .unwrap_or_default();
    format!(
        r#"<div class="box"><h1>Log in</h1>{problem}
<form method="post" action="/login"><input type="hidden" name="next" value="{}">
<p><label>Token<br><input type="password" name="token" id="token" autocomplete="current-password" size="40" autofocus></label></p>
<p><button class="primary" type="submit" id="login">Log in</button></p></form>
<p class="muted">The token is the dashboard's OUTBOX_DASHBOARD_TOKEN or the content of its --token-file.</p></div>"#,
        esc(next)
    )
}

/// The chart's time span and bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Hour,
    Day,
    Week,
}

impl Range {
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some("24h") => Range::Day,
            Some("7d") => Range::Week,
            _ => Range::Hour,
        }
    }
    fn key(self) -> &'static str {
        match self {
            Range::Hour => "1h",
            Range::Day => "24h",
            Range::Week => "7d",
        }
    }
    pub fn bucket(self) -> Duration {
        Duration::from_secs(match self {
            Range::Hour => 60,
            Range::Day => 15 * 60,
            Range::Week => 3 * 3600,
        })
    }
    pub fn buckets(self) -> usize {
        match self {
            Range::Hour => 60,
            Range::Day => 96,
            Range::Week => 56,
        }
    }
    fn per(self) -> &'static str {
        match self {
            Range::Hour => "per minute",
            Range::Day => "per 15 minutes",
            Range::Week => "per 3 hours",
        }
    }
}

fn card(id: &str, label: &str, n: String, class: &str, href: &str) -> String {
    format!(
        r#"<a class="card {class}" href="{href}"><div class="n" id="stat-{id}">{n}</div><div class="l">{label}</div></a>"#
    )
}

pub fn overview(
    stats: &Stats,
    activity: &[ActivityBucket],
    since: DateTime<Utc>,
    range: Range,
    now: DateTime<Utc>,
    viewer: &Viewer,
) -> String {
    let c = &stats.counts;
    let bad = |n: u64| if n > 0 { "bad" } else { "" };
    let warn = |n: u64| if n > 0 { "warn" } else { "" };
    let mut out = String::from(r#"<h1>Overview</h1><div id="live"><div class="cards">"#);
    out.push_str(&card(
        "pending",
        "Pending",
        c.pending.to_string(),
        "",
        "/messages?state=unprocessed",
    ));
    out.push_str(&card(
        "in_flight",
        "In flight",
        c.in_flight.to_string(),
        "",
        "/messages?state=unprocessed",
    ));
    out.push_str(&card(
        "retrying",
        "Retrying",
        c.retrying.to_string(),
        warn(c.retrying),
        "/messages?state=failed",
    ));
    out.push_str(&card(
        "dead",
        "Dead",
        c.dead.to_string(),
        bad(c.dead),
        "/messages?state=dead",
    ));
    out.push_str(&card(
        "failed",
        "Failed (error set)",
        c.failed.to_string(),
        bad(c.failed),
        "/messages?state=failed",
    ));
    out.push_str(&card(
        "processed",
        "Processed",
        c.processed.to_string(),
        "ok",
        "/messages?state=processed",
    ));
    out.push_str(&card(
        "total",
        "Total",
        c.total.to_string(),
        "",
        "/messages?state=unprocessed",
    ));
    let oldest = stats
        .oldest_unprocessed_age_seconds
        .map(age)
        .unwrap_or_else(|| "–".into());
    out.push_str(&card(
        "lag",
        "Oldest unprocessed",
        oldest,
        "",
        "/messages?state=unprocessed",
    ));
    out.push_str("</div>");

    let _ = write!(
        out,
        r#"<h2>Throughput and failures, {}</h2><div class="tabs">"#,
        range.per()
    );
    for r in [Range::Hour, Range::Day, Range::Week] {
        let on = if r == range { "on" } else { "" };
        let _ = write!(
            out,
            r#"<a class="{on}" href="/?range={k}">last {k}</a>"#,
            k = r.key()
        );
    }
    out.push_str("</div>");
    out.push_str(&chart(activity, since, range, now));

    out.push_str(r#"<h2>By type</h2><table id="by-type"><tr><th>Type</th><th class="num">Total</th><th class="num">Processed</th><th class="num">Pending</th><th class="num">In flight</th><th class="num">Retrying</th><th class="num">Dead</th></tr>"#);
    for t in &stats.by_type {
        let k = &t.counts;
        let href = format!(
            "/messages?state=unprocessed&amp;type={}",
            esc(&percent_encode(&t.event_type))
        );
        let _ = write!(
            out,
            r#"<tr><td><a href="{href}">{}</a></td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            esc(&one_line(&t.event_type, 80)),
            k.total,
            k.processed,
            k.pending,
            k.in_flight,
            k.retrying,
            k.dead
        );
    }
    if stats.by_type.is_empty() {
        out.push_str(r#"<tr><td colspan="7" class="muted">The outbox is empty.</td></tr>"#);
    }
    out.push_str("</table></div>");

    out.push_str("<h2>Actions</h2>");
    out.push_str(&actions_panel(c, viewer));
    out
}

fn actions_panel(c: &Counts, viewer: &Viewer) -> String {
    if viewer.read_only {
        return r#"<p class="muted">Read-only: actions are off.</p>"#.into();
    }
    if !viewer.actions {
        return r#"<p class="muted">Actions are off: start the dashboard with OUTBOX_DASHBOARD_TOKEN or --token-file.</p>"#.into();
    }
    if viewer.csrf.is_none() {
        return r#"<p><a href="/login">Log in</a> with the token to retry or purge messages.</p>"#.into();
    }
    let csrf = csrf_field(viewer);
    let failing = c.failed.saturating_sub(c.dead);
    format!(
        r#"<div class="actions">
<form method="post" action="/actions/retry-failed">{csrf}<input type="hidden" name="back" value="/"><button type="submit" id="retry-failed">Retry all failing ({failing})</button></form>
<form method="post" action="/actions/retry-dead">{csrf}<input type="hidden" name="back" value="/"><button type="submit" id="retry-dead">Retry all dead ({dead})</button></form>
<form method="post" action="/actions/purge">{csrf}<input type="hidden" name="back" value="/"><label>Purge processed older than <input name="older_than" value="7d" size="5"></label><button type="submit" id="purge">Purge…</button></form>
</div>"#,
        dead = c.dead
    )
}

/// An SVG bar chart: processed (green) and failed attempts (red) per bucket.
fn chart(activity: &[ActivityBucket], since: DateTime<Utc>, range: Range, now: DateTime<Utc>) -> String {
    let n = range.buckets();
    let step = range.bucket().as_secs() as i64;
    let mut processed = vec![0u64; n];
    let mut failed = vec![0u64; n];
    for b in activity {
        let i = (b.start.timestamp() - since.timestamp()) / step;
        if (0..n as i64).contains(&i) {
            processed[i as usize] += b.processed;
            failed[i as usize] += b.failed;
        }
    }
    let max = processed.iter().chain(&failed).copied().max().unwrap_or(0).max(1);
    let (w, h, left, bottom, top) = (960.0, 220.0, 48.0, 24.0, 10.0);
    let plot_h = h - bottom - top;
    let slot = (w - left - 8.0) / n as f64;
    let bar = (slot * 0.42).max(0.5);
    let y = |v: u64| top + plot_h - plot_h * v as f64 / max as f64;
    let mut svg = format!(
        r##"<div class="chart"><svg id="chart" viewBox="0 0 {w} {h}" role="img" aria-label="processed and failed per bucket">
<line x1="{left}" y1="{base}" x2="{right}" y2="{base}" stroke="#d0d5dd"/>
<line x1="{left}" y1="{top}" x2="{right}" y2="{top}" stroke="#eef0f3"/>
<text x="{lx}" y="{ty}" font-size="11" text-anchor="end" fill="#667085">{max}</text>
<text x="{lx}" y="{base}" font-size="11" text-anchor="end" fill="#667085">0</text>
"##,
        base = top + plot_h,
        right = w - 8.0,
        lx = left - 6.0,
        ty = top + 8.0
    );
    let fmt = if step >= 3600 { "%m-%d %H:%M" } else { "%H:%M" };
    for i in 0..n {
        let start = since + chrono::Duration::seconds(i as i64 * step);
        let x = left + i as f64 * slot + slot * 0.08;
        let _ = write!(
            svg,
            r##"<g><title>{} UTC: {} processed, {} failed</title><rect x="{x:.1}" y="{py:.1}" width="{bar:.1}" height="{ph:.1}" fill="#12805c"/><rect x="{fx:.1}" y="{fy:.1}" width="{bar:.1}" height="{fh:.1}" fill="#c4320a"/><rect x="{x:.1}" y="{top}" width="{slot:.1}" height="{plot_h}" fill="transparent"/></g>"##,
            start.format("%Y-%m-%d %H:%M"),
            processed[i],
            failed[i],
            py = y(processed[i]),
            ph = top + plot_h - y(processed[i]),
            fx = x + bar,
            fy = y(failed[i]),
            fh = top + plot_h - y(failed[i]),
        );
        if i % (n / 6).max(1) == 0 {
            let _ = write!(
                svg,
                r##"<text x="{x:.1}" y="{ly}" font-size="11" fill="#667085">{}</text>"##,
                start.format(fmt),
                ly = h - 6.0
            );
        }
    }
    let total_p: u64 = processed.iter().sum();
    let total_f: u64 = failed.iter().sum();
    let _ = write!(
        svg,
        r#"</svg><div class="legend"><span><i class="p"></i>processed <b id="chart-processed">{total_p}</b></span><span><i class="f"></i>failed attempts <b id="chart-failed">{total_f}</b></span><span>until {} UTC</span></div></div>"#,
        now.format("%Y-%m-%d %H:%M")
    );
    svg
}

/// Which list the messages page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListState {
    Unprocessed,
    Failed,
    Dead,
    Processed,
}

impl ListState {
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some("failed") => ListState::Failed,
            Some("dead") => ListState::Dead,
            Some("processed") => ListState::Processed,
            _ => ListState::Unprocessed,
        }
    }
    fn key(self) -> &'static str {
        match self {
            ListState::Unprocessed => "unprocessed",
            ListState::Failed => "failed",
            ListState::Dead => "dead",
            ListState::Processed => "processed",
        }
    }
    fn label(self) -> &'static str {
        match self {
            ListState::Unprocessed => "Unprocessed",
            ListState::Failed => "Failing",
            ListState::Dead => "Dead",
            ListState::Processed => "Processed",
        }
    }
    pub fn filter(self) -> ListFilter {
        match self {
            ListState::Unprocessed => ListFilter::Unprocessed,
            ListState::Failed => ListFilter::Failed,
            ListState::Dead => ListFilter::Dead,
            ListState::Processed => ListFilter::Processed,
        }
    }
    /// How many rows the list has in all, for paging.
    pub fn count(self, c: &Counts) -> u64 {
        match self {
            ListState::Unprocessed => c.total - c.processed,
            ListState::Failed => c.failed,
            ListState::Dead => c.dead,
            ListState::Processed => c.processed,
        }
    }
}

pub struct ListView<'a> {
    pub state: ListState,
    pub event_type: Option<&'a str>,
    pub types: &'a [String],
    pub page: usize,
    pub total: u64,
    pub rows: &'a [Message],
    pub now: DateTime<Utc>,
    pub viewer: &'a Viewer,
}

fn state_badge(s: State) -> String {
    format!(r#"<span class="state {0}">{0}</span>"#, s.as_str())
}

pub fn list(v: &ListView) -> String {
    let type_q = v
        .event_type
        .map(|t| format!("&amp;type={}", esc(&percent_encode(t))))
        .unwrap_or_default();
    let mut out = format!("<h1>{} messages</h1><div class=\"tabs\">", v.state.label());
    for s in [
        ListState::Unprocessed,
        ListState::Failed,
        ListState::Dead,
        ListState::Processed,
    ] {
        let on = if s == v.state { "on" } else { "" };
        let _ = write!(
            out,
            r#"<a class="{on}" id="tab-{k}" href="/messages?state={k}{type_q}">{}</a>"#,
            s.label(),
            k = s.key()
        );
    }
    let _ = write!(
        out,
        r#"<form method="get" action="/messages"><input type="hidden" name="state" value="{}"><select name="type" id="type-filter"><option value="">all types</option>"#,
        v.state.key()
    );
    for t in v.types {
        let sel = if Some(t.as_str()) == v.event_type {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<option value="{0}"{sel}>{1}</option>"#,
            esc(t),
            esc(&one_line(t, 60))
        );
    }
    out.push_str(r#"</select><button type="submit">Filter</button></form></div><div id="live">"#);
    out.push_str(r#"<table id="messages"><tr><th>Id</th><th>Type</th><th>State</th><th>Occurred (UTC)</th><th class="num">Attempts</th>"#);
    out.push_str(match v.state {
        ListState::Processed => "<th>Processed (UTC)</th>",
        _ => "<th>Next attempt (UTC)</th>",
    });
    out.push_str("<th>Error</th></tr>");
    for m in v.rows {
        let second = match v.state {
            ListState::Processed => when(m.processed_on),
            _ => when(m.next_attempt_on),
        };
        let _ = write!(
            out,
            r#"<tr class="message"><td><a href="/messages/{}"><code>{}</code></a></td><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td>{}</td><td class="err">{}</td></tr>"#,
            esc(&percent_encode(&m.id)),
            esc(&one_line(&m.id, 40)),
            esc(&one_line(&m.event_type, 60)),
            state_badge(m.state(v.now)),
            when(m.occurred_on),
            m.attempts,
            second,
            esc(&one_line(m.error.as_deref().unwrap_or(""), 100)),
        );
    }
    if v.rows.is_empty() {
        out.push_str(r#"<tr><td colspan="7" class="muted" id="empty">No messages here.</td></tr>"#);
    }
    out.push_str("</table>");
    let pages = (v.total as usize).div_ceil(PAGE_SIZE).max(1);
    let link = |p: usize, label: &str| {
        format!(
            r#"<a href="/messages?state={}{type_q}&amp;page={p}">{label}</a>"#,
            v.state.key()
        )
    };
    let _ = write!(
        out,
        r#"<div class="pager"><span id="count">{} messages</span><span>page {} of {pages}</span>"#,
        v.total, v.page
    );
    if v.page > 1 {
        out.push_str(&link(v.page - 1, "← newer/previous"));
    }
    if v.page < pages {
        out.push_str(&link(v.page + 1, "next →"));
    }
    out.push_str("</div></div>");
    let _ = v.viewer;
    out
}

/// Content as stored, indented when it is JSON.
fn pretty(content: &str) -> String {
    serde_json::from_str::<serde_json::Value>(content)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| content.to_owned())
}

pub fn detail(d: &MessageDetail, now: DateTime<Utc>, viewer: &Viewer, back: &str) -> String {
    let m = &d.message;
    let state = m.state(now);
    let mut out = format!(
        r#"<h1>Message <code id="message-id">{}</code></h1><div id="live"><table id="fields">"#,
        esc(&m.id)
    );
    let rows: [(&str, String); 10] = [
        ("Type", esc(&m.event_type)),
        ("State", state_badge(state)),
        ("Occurred (UTC)", when(m.occurred_on)),
        ("Processed (UTC)", when(m.processed_on)),
        ("Attempts", m.attempts.to_string()),
        ("Last attempt (UTC)", when(m.last_attempt_on)),
        ("Next attempt (UTC)", when(m.next_attempt_on)),
        ("Dead since (UTC)", when(m.dead_on)),
        ("Locked by", esc(m.locked_by.as_deref().unwrap_or("–"))),
        ("Locked until (UTC)", when(m.locked_until)),
    ];
    for (k, v) in rows {
        let _ = write!(out, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    out.push_str("</table>");
    if !m.problems.is_empty() {
        let text: Vec<String> = m.problems.iter().map(ToString::to_string).collect();
        let _ = write!(
            out,
            r#"<h2>Unreadable (shown lossily)</h2><pre class="err" id="problems">{}</pre>"#,
            esc(&text.join("\n"))
        );
    }
    if let Some(e) = &m.error {
        let _ = write!(
            out,
            r#"<h2>Last error</h2><pre class="err" id="error-text">{}</pre>"#,
            esc(e)
        );
    }
    let _ = write!(
        out,
        r#"<h2>Content</h2><pre id="content">{}</pre>"#,
        esc(&pretty(&m.content))
    );
    out.push_str(r#"<h2>Failed attempts</h2><table id="attempts"><tr><th class="num">Attempt</th><th>Failed (UTC)</th><th>Destination</th><th>Error</th></tr>"#);
    for a in &d.failures {
        let _ = write!(
            out,
            r#"<tr><td class="num">{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>"#,
            a.attempt,
            when(a.failed_on),
            esc(a.destination.as_deref().unwrap_or("–")),
            esc(&a.error)
        );
    }
    if d.failures.is_empty() {
        out.push_str(r#"<tr><td colspan="4" class="muted">None.</td></tr>"#);
    }
    out.push_str("</table>");
    if !d.deliveries.is_empty() {
        out.push_str(r#"<h2>Destinations that accepted it</h2><table><tr><th>Destination</th><th>Delivered (UTC)</th></tr>"#);
        for x in &d.deliveries {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&x.destination),
                when(x.delivered_on)
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</div>");
    if state != State::Processed && viewer.actions && viewer.csrf.is_some() {
        let _ = write!(
            out,
            r#"<h2>Actions</h2><div class="actions"><form method="post" action="/actions/retry">{}<input type="hidden" name="id" value="{}"><input type="hidden" name="back" value="{}"><button class="primary" type="submit" id="retry">Retry now…</button></form></div>"#,
            csrf_field(viewer),
            esc(&m.id),
            esc(back)
        );
    } else if state != State::Processed && viewer.actions {
        out.push_str(r#"<p><a href="/login">Log in</a> with the token to retry this message.</p>"#);
    }
    out
}

pub fn confirm(
    action: &str,
    question: &str,
    count: u64,
    fields: &[(&str, String)],
    viewer: &Viewer,
    back: &str,
) -> String {
    let mut hidden = csrf_field(viewer);
    for (k, v) in fields {
        let _ = write!(hidden, r#"<input type="hidden" name="{k}" value="{}">"#, esc(v));
    }
    let button = if count == 0 {
        r#"<p class="muted">Nothing to do.</p>"#.to_owned()
    } else {
        let class = if action == "purge" { "danger" } else { "primary" };
        format!(r#"<button class="{class}" type="submit" id="confirm">Yes, do it</button>"#)
    };
    format!(
        r#"<div class="box"><h1>Confirm</h1><p id="question">{}</p>
<form method="post" action="/actions/{action}">{hidden}<input type="hidden" name="confirm" value="yes">{button} <a href="{}">Cancel</a></form></div>"#,
        esc(question),
        esc(back)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script>'&"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;"
        );
    }

    #[test]
    fn notices_are_fixed_texts() {
        assert_eq!(
            notice_text("retried-1").as_deref(),
            Some("Retried 1 message: due now.")
        );
        assert_eq!(notice_text("<b>-1"), None);
        assert_eq!(notice_text("retried-x"), None);
    }
}
