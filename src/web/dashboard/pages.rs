//! The dashboard's HTML, rendered on the server with maud. Everything that came from the database
//! (types, contents, errors, ids, owners) is attacker-controlled; maud escapes every `(value)` it
//! interpolates, so the only unescaped text is the visible `PreEscaped` of our own compiled-in assets.

use std::time::Duration;

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{ActionKind, PAGE_SIZE, Viewer};
use crate::model::{ActivityBucket, BlockedKey, Counts, Message, MessageDetail, State, Stats, one_line};
use crate::store::ListFilter;
use crate::web::percent_encode;

/// The stylesheet and the refresh script: trusted, compiled in, inlined under the CSP nonce.
const STYLE: &str = include_str!("assets/dashboard.css");
const SCRIPT: &str = include_str!("assets/dashboard.js");

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

/// Notices after an action come back as a fixed code and a number, never as free text.
pub fn notice_text(code: &str) -> Option<String> {
    let (what, n) = code.rsplit_once('-')?;
    let n: u64 = n.parse().ok()?;
    let plural = if n == 1 { "" } else { "s" };
    match what {
        "retried" => Some(format!("Retried {n} message{plural}: due now.")),
        "purged" => Some(format!("Deleted {n} processed message{plural}.")),
        "skipped" => {
            let keys = if n == 1 { "its key" } else { "their keys" };
            Some(format!(
                "Skipped {n} message{plural}: the later messages of {keys} go on."
            ))
        }
        _ => None,
    }
}

fn csrf_field(viewer: &Viewer) -> Markup {
    html! {
        @if let Some(csrf) = &viewer.csrf {
            input type="hidden" name="csrf" value=(csrf);
        }
    }
}

pub fn layout(title: &str, body: Markup, nonce: &str, viewer: &Viewer, notice: Option<&str>) -> String {
    const NAV: [(&str, &str); 7] = [
        ("/", "Overview"),
        ("/messages?state=unprocessed", "Unprocessed"),
        ("/messages?state=failed", "Failing"),
        ("/messages?state=dead", "Dead"),
        ("/blocked", "Blocked keys"),
        ("/messages?state=processed", "Processed"),
        ("/audit", "Audit"),
    ];
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · outboxctl" }
                style nonce=(nonce) { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    span.brand { "outboxctl" }
                    @for (href, label) in NAV {
                        a href=(href) { (label) }
                    }
                    div.right {
                        @if viewer.read_only {
                            span.badge { "read-only" }
                        }
                        @if viewer.logged_in && viewer.csrf.is_some() {
                            form method="post" action="/logout" {
                                (csrf_field(viewer))
                                button type="submit" { "Log out" }
                            }
                        } @else if viewer.actions && !viewer.logged_in {
                            a href="/login" { "Log in" }
                        }
                        span #refreshed {}
                    }
                }
                main {
                    @if let Some(notice) = notice {
                        div.notice #notice { (notice) }
                    }
                    (body)
                }
                script nonce=(nonce) { (PreEscaped(SCRIPT)) }
            }
        }
    };
    page.into_string()
}

pub fn error(status: u16, message: &str) -> Markup {
    html! {
        h1 { (status) }
        p.err #error { (message) }
        p { a href="/" { "Back to the overview" } }
    }
}

pub fn login(next: &str, token_configured: bool, problem: Option<&str>) -> Markup {
    html! {
        div.box {
            h1 { "Log in" }
            @if !token_configured {
                p {
                    "No token is configured, so actions are off. Start the dashboard with "
                    code { "OUTBOX_DASHBOARD_TOKEN" } " or " code { "--token-file" } " to enable them."
                }
            } @else {
                @if let Some(problem) = problem {
                    p.err #error { (problem) }
                }
                form method="post" action="/login" {
                    input type="hidden" name="next" value=(next);
                    p {
                        label {
                            "Token" br;
                            input #token type="password" name="token" autocomplete="current-password" size="40" autofocus;
                        }
                    }
                    p { button.primary #login type="submit" { "Log in" } }
                }
                p.muted { "The token is the dashboard's OUTBOX_DASHBOARD_TOKEN or the content of its --token-file." }
            }
        }
    }
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

/// One number of the overview, linking to the list it counts.
struct Card {
    id: &'static str,
    label: &'static str,
    value: String,
    class: &'static str,
    href: &'static str,
}

/// The audit trail, newest first.
pub fn audit(entries: &[crate::model::AuditEntry]) -> Markup {
    html! {
        h1 { "Audit trail" }
        p.muted {
            "Who retried, skipped or purged what, and when (newest first; `outboxctl audit` shows \
             more). Each row was written in the same transaction as its effect."
        }
        table #audit {
            tr {
                th { "At" }
                th { "Actor" }
                th { "Action" }
                th.num { "Messages" }
                th { "Which" }
                th { "Command" }
            }
            @for e in entries {
                tr.audit {
                    td { (e.at.map(crate::time::format).unwrap_or_default()) }
                    td { (one_line(&e.actor, 40)) }
                    td { (e.action) }
                    td.num { (e.messages) }
                    td {
                        @if let Some(ids) = &e.ids {
                            @for id in ids {
                                a href={"/messages/" (percent_encode(id))} { code { (one_line(id, 40)) } } " "
                            }
                        } @else {
                            (one_line(e.filter.as_deref().unwrap_or(""), 80))
                        }
                    }
                    td { code { (one_line(&e.command, 120)) } }
                }
            }
            @if entries.is_empty() {
                tr { td.muted #empty colspan="6" { "No operator action yet." } }
            }
        }
    }
}

pub fn overview(
    stats: &Stats,
    activity: &[ActivityBucket],
    since: DateTime<Utc>,
    range: Range,
    now: DateTime<Utc>,
    viewer: &Viewer,
) -> Markup {
    let c = &stats.counts;
    let bad = |n: u64| if n > 0 { "bad" } else { "" };
    let warn = |n: u64| if n > 0 { "warn" } else { "" };
    let oldest = stats
        .oldest_unprocessed_age_seconds
        .map(age)
        .unwrap_or_else(|| "–".into());
    let card = |id, label, value: String, class, href| Card {
        id,
        label,
        value,
        class,
        href,
    };
    let unprocessed = "/messages?state=unprocessed";
    let cards = [
        card("pending", "Pending", c.pending.to_string(), "", unprocessed),
        card("in_flight", "In flight", c.in_flight.to_string(), "", unprocessed),
        card(
            "retrying",
            "Retrying",
            c.retrying.to_string(),
            warn(c.retrying),
            "/messages?state=failed",
        ),
        card(
            "dead",
            "Dead",
            c.dead.to_string(),
            bad(c.dead),
            "/messages?state=dead",
        ),
        card(
            "failed",
            "Failed (error set)",
            c.failed.to_string(),
            bad(c.failed),
            "/messages?state=failed",
        ),
        card(
            "blocked",
            "Blocked keys",
            stats.blocked_keys.to_string(),
            warn(stats.blocked_keys),
            "/blocked",
        ),
        card(
            "circuits",
            "Open circuits",
            stats.open_circuits.len().to_string(),
            bad(stats.open_circuits.len() as u64),
            "/#circuits",
        ),
        card(
            "processed",
            "Processed",
            c.processed.to_string(),
            "ok",
            "/messages?state=processed",
        ),
        card("total", "Total", c.total.to_string(), "", unprocessed),
        card("lag", "Oldest unprocessed", oldest, "", unprocessed),
    ];
    html! {
        h1 { "Overview" }
        div #live {
            div.cards {
                @for card in &cards {
                    a.card.(card.class) href=(card.href) {
                        div.n #{"stat-" (card.id)} { (card.value) }
                        div.l { (card.label) }
                    }
                }
            }
            @if !stats.open_circuits.is_empty() {
                h2 { "Open circuits" }
                p.muted {
                    "Nothing is sent to these destinations until the time shown; then one message \
                     probes each. Their messages wait with their attempts unspent."
                }
                table #circuits {
                    tr {
                        th { "Destination" }
                        th { "Open until" }
                        th.num { "Failures in a row" }
                        th { "Opened" }
                        th { "Last error" }
                    }
                    @for c in &stats.open_circuits {
                        tr.circuit {
                            td { code { (one_line(&c.destination, 60)) } }
                            td { (crate::time::format(c.open_until)) }
                            td.num { (c.failures) }
                            td { (crate::time::format(c.opened_on)) }
                            td { (one_line(&c.last_error, 200)) }
                        }
                    }
                }
            }
            h2 { "Throughput and failures, " (range.per()) }
            div.tabs {
                @for r in [Range::Hour, Range::Day, Range::Week] {
                    a.on[r == range] href={"/?range=" (r.key())} { "last " (r.key()) }
                }
            }
            (chart(activity, since, range, now))
            h2 { "By type" }
            table #by-type {
                tr {
                    th { "Type" }
                    th.num { "Total" }
                    th.num { "Processed" }
                    th.num { "Pending" }
                    th.num { "In flight" }
                    th.num { "Retrying" }
                    th.num { "Dead" }
                }
                @for t in &stats.by_type {
                    @let k = &t.counts;
                    tr {
                        td {
                            a href={"/messages?state=unprocessed&type=" (percent_encode(&t.event_type))} {
                                (one_line(&t.event_type, 80))
                            }
                        }
                        td.num { (k.total) }
                        td.num { (k.processed) }
                        td.num { (k.pending) }
                        td.num { (k.in_flight) }
                        td.num { (k.retrying) }
                        td.num { (k.dead) }
                    }
                }
                @if stats.by_type.is_empty() {
                    tr { td.muted colspan="7" { "The outbox is empty." } }
                }
            }
        }
        h2 { "Actions" }
        (actions_panel(c, viewer))
    }
}

/// Why the viewer gets no action forms, or None when they can act: `what` names the actions.
fn actions_off(viewer: &Viewer, what: &str) -> Option<Markup> {
    if viewer.read_only {
        Some(html! { p.muted { "Read-only: actions are off." } })
    } else if !viewer.actions {
        Some(html! {
            p.muted { "Actions are off: start the dashboard with OUTBOX_DASHBOARD_TOKEN or --token-file." }
        })
    } else if viewer.csrf.is_none() {
        Some(html! { p { a href="/login" { "Log in" } " with the token to " (what) "." } })
    } else {
        None
    }
}

fn actions_panel(c: &Counts, viewer: &Viewer) -> Markup {
    let failing = c.failed.saturating_sub(c.dead);
    html! {
        @if let Some(off) = actions_off(viewer, "retry or purge messages") {
            (off)
        } @else {
            div.actions {
                form method="post" action=(ActionKind::RetryFailed.path()) {
                    (csrf_field(viewer))
                    input type="hidden" name="back" value="/";
                    button #retry-failed type="submit" { "Retry all failing (" (failing) ")" }
                }
                form method="post" action=(ActionKind::RetryDead.path()) {
                    (csrf_field(viewer))
                    input type="hidden" name="back" value="/";
                    button #retry-dead type="submit" { "Retry all dead (" (c.dead) ")" }
                }
                form method="post" action=(ActionKind::Purge.path()) {
                    (csrf_field(viewer))
                    input type="hidden" name="back" value="/";
                    label { "Purge processed older than " input name="older_than" value="7d" size="5"; }
                    button #purge type="submit" { "Purge…" }
                }
            }
        }
    }
}

/// An SVG bar chart: processed (green) and failed attempts (red) per bucket.
fn chart(activity: &[ActivityBucket], since: DateTime<Utc>, range: Range, now: DateTime<Utc>) -> Markup {
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
    let base = top + plot_h;
    let right = w - 8.0;
    let slot = (w - left - 8.0) / n as f64;
    let bar = (slot * 0.42).max(0.5);
    let y = |v: u64| top + plot_h - plot_h * v as f64 / max as f64;
    let px = |v: f64| format!("{v:.1}");
    let label_fmt = if step >= 3600 { "%m-%d %H:%M" } else { "%H:%M" };
    // SVG elements are written with `{}`: the HTML parser does not close a bare `<rect>` in SVG.
    html! {
        div.chart {
            svg #chart viewBox={"0 0 " (w) " " (h)} role="img" aria-label="processed and failed per bucket" {
                line x1=(left) y1=(base) x2=(right) y2=(base) stroke="#d0d5dd" {}
                line x1=(left) y1=(top) x2=(right) y2=(top) stroke="#eef0f3" {}
                text x=(left - 6.0) y=(top + 8.0) font-size="11" text-anchor="end" fill="#667085" { (max) }
                text x=(left - 6.0) y=(base) font-size="11" text-anchor="end" fill="#667085" { "0" }
                @for i in 0..n {
                    @let start = since + chrono::Duration::seconds(i as i64 * step);
                    @let x = left + i as f64 * slot + slot * 0.08;
                    g {
                        title {
                            (start.format("%Y-%m-%d %H:%M")) " UTC: "
                            (processed[i]) " processed, " (failed[i]) " failed"
                        }
                        rect x=(px(x)) y=(px(y(processed[i]))) width=(px(bar))
                            height=(px(base - y(processed[i]))) fill="#12805c" {}
                        rect x=(px(x + bar)) y=(px(y(failed[i]))) width=(px(bar))
                            height=(px(base - y(failed[i]))) fill="#c4320a" {}
                        rect x=(px(x)) y=(top) width=(px(slot)) height=(plot_h) fill="transparent" {}
                    }
                    @if i % (n / 6).max(1) == 0 {
                        text x=(px(x)) y=(h - 6.0) font-size="11" fill="#667085" { (start.format(label_fmt)) }
                    }
                }
            }
            div.legend {
                span { i.p {} "processed " b #chart-processed { (processed.iter().sum::<u64>()) } }
                span { i.f {} "failed attempts " b #chart-failed { (failed.iter().sum::<u64>()) } }
                span { "until " (now.format("%Y-%m-%d %H:%M")) " UTC" }
            }
        }
    }
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
}

fn state_badge(s: State) -> Markup {
    html! { span.state.(s.as_str()) { (s.as_str()) } }
}

pub fn list(v: &ListView) -> Markup {
    let type_q = v
        .event_type
        .map(|t| format!("&type={}", percent_encode(t)))
        .unwrap_or_default();
    let link = |state: ListState, page: Option<usize>| {
        let page = page.map(|p| format!("&page={p}")).unwrap_or_default();
        format!("/messages?state={}{type_q}{page}", state.key())
    };
    let pages = (v.total as usize).div_ceil(PAGE_SIZE).max(1);
    html! {
        h1 { (v.state.label()) " messages" }
        div.tabs {
            @for s in [ListState::Unprocessed, ListState::Failed, ListState::Dead, ListState::Processed] {
                a.on[s == v.state] #{"tab-" (s.key())} href=(link(s, None)) { (s.label()) }
            }
            form method="get" action="/messages" {
                input type="hidden" name="state" value=(v.state.key());
                select #type-filter name="type" {
                    option value="" { "all types" }
                    @for t in v.types {
                        option value=(t) selected[Some(t.as_str()) == v.event_type] { (one_line(t, 60)) }
                    }
                }
                button type="submit" { "Filter" }
            }
        }
        div #live {
            table #messages {
                tr {
                    th { "Id" }
                    th { "Type" }
                    th { "State" }
                    th { "Occurred (UTC)" }
                    th.num { "Attempts" }
                    @if v.state == ListState::Processed {
                        th { "Processed (UTC)" }
                    } @else {
                        th { "Next attempt (UTC)" }
                    }
                    th { "Error" }
                }
                @for m in v.rows {
                    tr.message {
                        td { a href={"/messages/" (percent_encode(&m.id))} { code { (one_line(&m.id, 40)) } } }
                        td { (one_line(&m.event_type, 60)) }
                        td { (state_badge(m.state(v.now))) }
                        td { (when(m.occurred_on)) }
                        td.num { (m.attempts) }
                        @if v.state == ListState::Processed {
                            td { (when(m.processed_on)) }
                        } @else {
                            td { (when(m.next_attempt_on)) }
                        }
                        td.err { (one_line(m.error.as_deref().unwrap_or(""), 100)) }
                    }
                }
                @if v.rows.is_empty() {
                    tr { td.muted #empty colspan="7" { "No messages here." } }
                }
            }
            div.pager {
                span #count { (v.total) " messages" }
                span { "page " (v.page) " of " (pages) }
                @if v.page > 1 {
                    a href=(link(v.state, Some(v.page - 1))) { "← newer/previous" }
                }
                @if v.page < pages {
                    a href=(link(v.state, Some(v.page + 1))) { "next →" }
                }
            }
        }
    }
}

pub struct BlockedView<'a> {
    pub page: usize,
    /// All blocked keys, for paging.
    pub total: u64,
    pub rows: &'a [BlockedKey],
    pub now: DateTime<Utc>,
    pub viewer: &'a Viewer,
    /// This page's URL, for the row forms to come back to.
    pub back: &'a str,
}

/// One hidden-field form that posts an action about one message.
fn message_action(action: ActionKind, id: &str, label: &str, viewer: &Viewer, back: &str) -> Markup {
    html! {
        form method="post" action=(action.path()) {
            (csrf_field(viewer))
            input type="hidden" name="id" value=(id);
            input type="hidden" name="back" value=(back);
            button.(action.name()) type="submit" { (label) }
        }
    }
}

pub fn blocked(v: &BlockedView) -> Markup {
    let pages = (v.total as usize).div_ceil(PAGE_SIZE).max(1);
    let link = |p: usize| format!("/blocked?page={p}");
    let off = actions_off(v.viewer, "retry or skip the message holding a key");
    let columns = if off.is_none() { 9 } else { 8 };
    html! {
        h1 { "Blocked keys" }
        p.muted {
            "A key is blocked while its first undelivered message is failing or dead: the later "
            "messages of the key wait behind it. Retry that message to deliver it again, or skip it "
            "to let the key go on without it."
        }
        // The row forms are inside the live part on purpose: a refresh must not leave a form for
        // a head that has moved on.
        div #live {
            table #blocked {
                tr {
                    th { "Key" }
                    th.num { "Waiting" }
                    th { "Held by" }
                    th { "Type" }
                    th { "State" }
                    th.num { "Attempts" }
                    th { "Next attempt (UTC)" }
                    th { "Error" }
                    @if off.is_none() {
                        th { "Actions" }
                    }
                }
                @for b in v.rows {
                    @let m = &b.head;
                    @let state = m.state(v.now);
                    tr.blocked {
                        td.key { code { (one_line(&b.key, 60)) } }
                        td.num.waiting { (b.waiting) }
                        td.head { a href={"/messages/" (percent_encode(&m.id))} { code { (one_line(&m.id, 40)) } } }
                        td { (one_line(&m.event_type, 60)) }
                        td { (state_badge(state)) }
                        td.num { (m.attempts) }
                        @if matches!(state, State::Retrying | State::InFlight) {
                            td { (when(m.next_attempt_on)) }
                        } @else {
                            td { "–" }
                        }
                        td.err { (one_line(m.error.as_deref().unwrap_or(""), 100)) }
                        @if off.is_none() {
                            td {
                                div.row-actions {
                                    (message_action(ActionKind::Retry, &m.id, "Retry…", v.viewer, v.back))
                                    (message_action(ActionKind::Skip, &m.id, "Skip…", v.viewer, v.back))
                                }
                            }
                        }
                    }
                }
                @if v.rows.is_empty() {
                    tr { td.muted #empty colspan=(columns) { "No key is blocked." } }
                }
            }
            div.pager {
                span #count { (v.total) " blocked keys" }
                span { "page " (v.page) " of " (pages) }
                @if v.page > 1 {
                    a href=(link(v.page - 1)) { "← previous" }
                }
                @if v.page < pages {
                    a href=(link(v.page + 1)) { "next →" }
                }
            }
        }
        @if let Some(off) = off {
            (off)
        }
    }
}

/// Content as stored, indented when it is JSON.
fn pretty(content: &str) -> String {
    serde_json::from_str::<serde_json::Value>(content)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| content.to_owned())
}

pub fn detail(d: &MessageDetail, now: DateTime<Utc>, viewer: &Viewer, back: &str) -> Markup {
    let m = &d.message;
    let state = m.state(now);
    let mut fields: Vec<(&str, Markup)> =
        vec![("Type", html! { (m.event_type) }), ("State", state_badge(state))];
    if let Some(parent) = &m.trace_parent {
        fields.push((
            "Trace parent",
            html! { code #traceparent { (one_line(parent, 80)) } },
        ));
    }
    if let Some(key) = &m.key {
        fields.push(("Ordering key", html! { code #ordering-key { (key) } }));
    }
    if let Some(b) = &d.blocked_by {
        fields.push((
            "Waiting behind",
            html! {
                a #blocked-by href={"/messages/" (percent_encode(&b.id))} { code { (one_line(&b.id, 40)) } }
                " " (state_badge(b.state(now)))
                " — the first undelivered message of its key"
            },
        ));
    }
    fields.extend([
        ("Occurred (UTC)", html! { (when(m.occurred_on)) }),
        ("Processed (UTC)", html! { (when(m.processed_on)) }),
        ("Attempts", html! { (m.attempts) }),
        ("Last attempt (UTC)", html! { (when(m.last_attempt_on)) }),
        ("Next attempt (UTC)", html! { (when(m.next_attempt_on)) }),
        ("Dead since (UTC)", html! { (when(m.dead_on)) }),
        ("Locked by", html! { (m.locked_by.as_deref().unwrap_or("–")) }),
        ("Locked until (UTC)", html! { (when(m.locked_until)) }),
    ]);
    if m.skipped_on.is_some() {
        fields.push(("Skipped (UTC)", html! { (when(m.skipped_on)) }));
    }
    // Skip is for a message that holds its key back, which only a failing or dead one does;
    // offered on a pending one it would drop a message nobody saw fail (`outboxctl skip` still can).
    let skippable =
        m.processed_on.is_none() && m.skipped_on.is_none() && (m.error.is_some() || m.dead_on.is_some());
    html! {
        h1 { "Message " code #message-id { (m.id) } }
        div #live {
            table #fields {
                @for (name, value) in fields {
                    tr { th { (name) } td { (value) } }
                }
            }
            @if !m.problems.is_empty() {
                h2 { "Unreadable (shown lossily)" }
                pre.err #problems {
                    (m.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
                }
            }
            @if let Some(e) = &m.error {
                h2 { "Last error" }
                pre.err #error-text { (e) }
            }
            h2 { "Content" }
            pre #content { (pretty(&m.content)) }
            h2 { "Failed attempts" }
            table #attempts {
                tr {
                    th.num { "Attempt" }
                    th { "Failed (UTC)" }
                    th { "Destination" }
                    th { "Error" }
                }
                @for a in &d.failures {
                    tr {
                        td.num { (a.attempt) }
                        td { (when(a.failed_on)) }
                        td { (a.destination.as_deref().unwrap_or("–")) }
                        td { pre { (a.error) } }
                    }
                }
                @if d.failures.is_empty() {
                    tr { td.muted colspan="4" { "None." } }
                }
            }
            @if !d.deliveries.is_empty() {
                h2 { "Destinations that accepted it" }
                table {
                    tr { th { "Destination" } th { "Delivered (UTC)" } }
                    @for x in &d.deliveries {
                        tr { td { (x.destination) } td { (when(x.delivered_on)) } }
                    }
                }
            }
            @if !d.replays.is_empty() {
                h2 { "Replays" }
                table #replays {
                    tr {
                        th { "Replay" }
                        th { "Started (UTC)" }
                        th { "To" }
                        th { "State" }
                        th.num { "Attempts" }
                        th { "Delivered (UTC)" }
                        th { "Error" }
                    }
                    @for r in &d.replays {
                        tr {
                            td { code { (r.replay) } }
                            td { (when(r.created_on)) }
                            td { (r.sink.as_deref().unwrap_or("its routes")) }
                            td { (r.state) }
                            td.num { (r.attempts) }
                            td { (when(r.delivered_on)) }
                            td { (r.error.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
        @if state != State::Processed && viewer.actions {
            @if viewer.csrf.is_some() {
                h2 { "Actions" }
                div.actions {
                    form method="post" action=(ActionKind::Retry.path()) {
                        (csrf_field(viewer))
                        input type="hidden" name="id" value=(m.id);
                        input type="hidden" name="back" value=(back);
                        button.primary #retry type="submit" { "Retry now…" }
                    }
                    @if skippable {
                        form method="post" action=(ActionKind::Skip.path()) {
                            (csrf_field(viewer))
                            input type="hidden" name="id" value=(m.id);
                            input type="hidden" name="back" value=(back);
                            button #skip type="submit" { "Skip…" }
                        }
                    }
                }
            } @else {
                p {
                    a href="/login" { "Log in" }
                    @if skippable { " with the token to retry or skip this message." }
                    @else { " with the token to retry this message." }
                }
            }
        }
    }
}

/// The page an action shows before it changes anything: what it will do, and a form that
/// sends the same fields again with `confirm=yes`.
pub fn confirm(
    action: ActionKind,
    question: &str,
    count: u64,
    fields: &[(&str, String)],
    viewer: &Viewer,
    back: &str,
) -> Markup {
    html! {
        div.box {
            h1 { "Confirm" }
            p #question { (question) }
            form method="post" action=(action.path()) {
                (csrf_field(viewer))
                @for (name, value) in fields {
                    input type="hidden" name=(name) value=(value);
                }
                input type="hidden" name="confirm" value="yes";
                @if count == 0 {
                    p.muted { "Nothing to do." }
                } @else {
                    button.(if matches!(action, ActionKind::Purge | ActionKind::Skip) { "danger" } else { "primary" }) #confirm type="submit" {
                        "Yes, do it"
                    }
                }
                " "
                a href=(back) { "Cancel" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_fixed_texts() {
        assert_eq!(
            notice_text("retried-1").as_deref(),
            Some("Retried 1 message: due now.")
        );
        assert_eq!(
            notice_text("skipped-2").as_deref(),
            Some("Skipped 2 messages: the later messages of their keys go on.")
        );
        assert_eq!(notice_text("<b>-1"), None);
        assert_eq!(notice_text("retried-x"), None);
    }
}
