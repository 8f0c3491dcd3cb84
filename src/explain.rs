//! "Why is this message not delivered?": one plain answer for the state a message is in, from
//! its row, its history and the routes, so an operator needs no SQL shell.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{Circuit, MessageDetail, State, one_line};
use crate::retry::RetryPolicy;
use crate::time;

/// How much of an error the answer quotes: the full text is in `show`.
const ERROR_CHARS: usize = 200;

/// What `explain` says about one message.
#[derive(Debug, Serialize)]
pub struct Explanation {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub state: State,
    /// The answer, in one sentence.
    pub answer: String,
    #[serde(flatten)]
    pub reason: Reason,
    /// Destinations that already accepted it (a message routed to several), so a retry skips them.
    pub accepted_by: Vec<String>,
    /// Where the routes send its type now; empty when no route takes it.
    pub routes: Vec<String>,
    /// What an operator can do about it, as a command; none when nothing is needed.
    pub action: Option<String>,
    /// The W3C trace id the application gave it, to find the request that caused it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Its deliveries by `outboxctl replay`, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replays: Vec<crate::model::ReplayDelivery>,
}

/// Why the message is where it is. The JSON carries it as `reason` plus its fields.
#[derive(Debug, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// Every destination accepted it.
    Processed { processed_on: Option<DateTime<Utc>> },
    /// Out of attempts, or failed permanently: it no longer competes.
    Dead {
        dead_on: Option<DateTime<Utc>>,
        attempts: i64,
        error: Option<String>,
    },
    /// Parked: its deliveries took relays down (or hung them) too often; dead until retried.
    Parked {
        dead_on: Option<DateTime<Utc>>,
        crashes: i64,
    },
    /// A destination of it has its circuit open: it waits, its attempts unspent.
    CircuitOpen {
        destination: String,
        until: DateTime<Utc>,
        failures: u32,
        error: String,
    },
    /// Skipped by an operator (or its type's policy): kept undelivered, no longer holding its key.
    Skipped {
        skipped_on: Option<DateTime<Utc>>,
        error: Option<String>,
    },
    /// An earlier message of its ordering key is not delivered yet: messages of one key go one at
    /// a time, in order.
    WaitingBehind {
        key: String,
        blocker: String,
        blocker_state: State,
    },
    /// A relay holds it under a lease.
    Claimed {
        by: Option<String>,
        until: Option<DateTime<Utc>>,
        attempt: i64,
        max_attempts: u32,
    },
    /// Its row could not be read as the schema says: the next relay to claim it makes it dead.
    Unreadable { problems: Vec<String> },
    /// No route takes its type: deliveries fail and are retried with backoff until one does.
    NoRoute,
    /// Failed before; waiting for its backoff to end.
    Backoff {
        until: Option<DateTime<Utc>>,
        attempt: i64,
        max_attempts: u32,
        error: Option<String>,
    },
    /// Due now, waiting for a relay to claim it.
    Due { since: Option<DateTime<Utc>> },
}

/// Explains `detail` at `now`. `routes` is where the config sends its type (None: no route);
/// `circuits` the open circuits.
pub fn explain(
    detail: &MessageDetail,
    routes: Option<&[String]>,
    circuits: &[Circuit],
    retry: &RetryPolicy,
    now: DateTime<Utc>,
) -> Explanation {
    let m = &detail.message;
    let state = m.state(now);
    let routes: Vec<String> = routes.map(<[String]>::to_vec).unwrap_or_default();
    let accepted_by: Vec<String> = detail.deliveries.iter().map(|d| d.destination.clone()).collect();
    let max_attempts = retry.max_attempts;
    let at = |t: Option<DateTime<Utc>>| t.map_or_else(|| "an unknown time".to_owned(), time::format);
    let retry_it = format!("outboxctl retry --id {}", m.id);
    let (reason, answer, action) = match state {
        State::Processed => (
            Reason::Processed {
                processed_on: m.processed_on,
            },
            format!(
                "processed at {}: every destination accepted it{}",
                at(m.processed_on),
                if routes.is_empty() {
                    String::new()
                } else {
                    format!(" (routed now to {})", routes.join(", "))
                }
            ),
            None,
        ),
        State::Dead if m.skipped_on.is_some() => (
            Reason::Skipped {
                skipped_on: m.skipped_on,
                error: m.error.clone(),
            },
            format!(
                "skipped at {}{}: it is kept undelivered and no longer holds back {}; `retry` delivers it \
                 after all (after the later messages of its key)",
                at(m.skipped_on),
                m.error
                    .as_deref()
                    .map(|e| format!(" (last error: {})", one_line(e, ERROR_CHARS)))
                    .unwrap_or_default(),
                m.key
                    .as_deref()
                    .map_or_else(|| "anything".to_owned(), |k| format!("key {k}"))
            ),
            Some(retry_it),
        ),
        State::Dead if m.crashes >= crate::relay::PARK_AFTER_CRASHES => (
            Reason::Parked {
                dead_on: m.dead_on,
                crashes: m.crashes,
            },
            format!(
                "parked since {}: {} deliveries of it ended with no outcome (the relay delivering it died or \
                 hung each time), so no relay claims it again until an operator brings it back",
                at(m.dead_on),
                m.crashes
            ) + &m
                .key
                .as_deref()
                .map(|k| format!("; it holds back the later messages of key {k} until then (or a skip)"))
                .unwrap_or_default(),
            Some(retry_it.clone()),
        ),
        State::Dead => (
            Reason::Dead {
                dead_on: m.dead_on,
                attempts: m.attempts,
                error: m.error.clone(),
            },
            format!(
                "dead since {} after {} attempt(s){}; it is not tried again until an operator brings it back",
                at(m.dead_on),
                m.attempts,
                m.error
                    .as_deref()
                    .map(|e| format!(": {}", one_line(e, ERROR_CHARS)))
                    .unwrap_or_default()
            ) + &m
                .key
                .as_deref()
                .map(|k| format!("; it holds back the later messages of key {k} until then (or a skip)"))
                .unwrap_or_default(),
            Some(match &m.key {
                Some(_) => format!("{retry_it}   (or give up on it: outboxctl skip {})", m.id),
                None => retry_it,
            }),
        ),
        State::InFlight => (
            Reason::Claimed {
                by: m.locked_by.clone(),
                until: m.locked_until,
                attempt: m.attempts,
                max_attempts,
            },
            format!(
                "being delivered: claimed by relay {} until {} (attempt {} of {max_attempts}); if that relay \
                 stopped, another one takes it over then",
                m.locked_by.as_deref().unwrap_or("?"),
                at(m.locked_until),
                m.attempts
            ),
            None,
        ),
        State::Pending | State::Retrying => {
            let next = m.next_attempt_on.filter(|t| *t > now);
            if !m.problems.is_empty() {
                let problems: Vec<String> = m
                    .problems
                    .iter()
                    .map(|p| format!("{} {}", p.column, p.detail))
                    .collect();
                let answer = format!(
                    "its row cannot be read ({}): the next relay to claim it makes it dead with that error; \
                     fix the row in the database, then retry it",
                    problems.join("; ")
                );
                (Reason::Unreadable { problems }, answer, Some(retry_it))
            } else if let (Some(key), Some(blocker)) = (&m.key, &detail.blocked_by) {
                let blocker_state = blocker.state(now);
                (
                    Reason::WaitingBehind {
                        key: key.clone(),
                        blocker: blocker.id.clone(),
                        blocker_state,
                    },
                    format!(
                        "waiting behind message {} of key {key}, which is {}: messages of one key are \
                         delivered one at a time, in order",
                        blocker.id,
                        describe_blocker(blocker, blocker_state, max_attempts)
                    ),
                    Some(format!("outboxctl explain {}", blocker.id)),
                )
            } else if routes.is_empty() {
                (
                    Reason::NoRoute,
                    format!(
                        "no route for type {0}: nothing can deliver it; add `{0} = \"SINK\"` (or a \"*\" route) \
                         under [routes] in outboxctl.toml; meanwhile each try fails and waits for its backoff",
                        m.event_type
                    ),
                    None,
                )
            } else if let Some(c) = circuits
                .iter()
                .filter(|c| routes.contains(&c.destination) && !accepted_by.contains(&c.destination))
                .max_by_key(|c| c.open_until)
            {
                (
                    Reason::CircuitOpen {
                        destination: c.destination.clone(),
                        until: c.open_until,
                        failures: c.failures,
                        error: c.last_error.clone(),
                    },
                    format!(
                        "waiting: destination {}'s circuit is open until {} after {} failures in a row (last: {}); \
                         nothing is sent there meanwhile and its attempts are not spent; then one message probes it",
                        c.destination,
                        time::format(c.open_until),
                        c.failures,
                        one_line(&c.last_error, ERROR_CHARS)
                    ),
                    None,
                )
            } else if let Some(until) = next {
                (
                    Reason::Backoff {
                        until: Some(until),
                        attempt: m.attempts,
                        max_attempts,
                        error: m.error.clone(),
                    },
                    format!(
                        "not due until {} (backoff after attempt {} of {max_attempts}){}",
                        time::format(until),
                        m.attempts,
                        m.error
                            .as_deref()
                            .map(|e| format!("; last error: {}", one_line(e, ERROR_CHARS)))
                            .unwrap_or_default()
                    ),
                    Some(retry_it),
                )
            } else {
                let since = m.next_attempt_on.or(m.occurred_on);
                (
                    Reason::Due { since },
                    format!(
                        "due since {} and waiting for a relay to claim it (oldest first): is `outboxctl run` \
                         (or a cron `outboxctl process-once`) running against this database?",
                        at(since)
                    ),
                    None,
                )
            }
        }
    };
    let answer = if m.crashes > 0 && !matches!(state, State::Processed | State::Dead) {
        format!(
            "{answer}; {} claim(s) of it ended with no outcome (the relay died or hung): at {} it is parked",
            m.crashes,
            crate::relay::PARK_AFTER_CRASHES
        )
    } else {
        answer
    };
    let answer = if accepted_by.is_empty() || state == State::Processed {
        answer
    } else {
        let waiting: Vec<&str> = routes
            .iter()
            .filter(|r| !accepted_by.contains(r))
            .map(String::as_str)
            .collect();
        format!(
            "{answer}; already accepted by {}, still to go: {}",
            accepted_by.join(", "),
            if waiting.is_empty() {
                "none".to_owned()
            } else {
                waiting.join(", ")
            }
        )
    };
    Explanation {
        id: m.id.clone(),
        event_type: m.event_type.clone(),
        state,
        answer,
        reason,
        accepted_by,
        routes,
        action,
        trace_id: m.trace_id().map(str::to_owned),
        replays: detail.replays.clone(),
    }
}

/// The state of the message a keyed message waits behind, in a few words.
fn describe_blocker(m: &crate::model::Message, state: State, max_attempts: u32) -> String {
    let error = m
        .error
        .as_deref()
        .map(|e| format!(" ({})", one_line(e, 80)))
        .unwrap_or_default();
    let at = |t: Option<DateTime<Utc>>| t.map_or_else(|| "an unknown time".to_owned(), time::format);
    match state {
        State::Dead => format!("dead since {}{error}", at(m.dead_on)),
        State::Retrying => format!(
            "retrying: attempt {} of {max_attempts} failed, next at {}{error}",
            m.attempts,
            at(m.next_attempt_on)
        ),
        State::InFlight => format!(
            "being delivered by relay {}",
            m.locked_by.as_deref().unwrap_or("?")
        ),
        State::Pending => "due and next in line".to_owned(),
        State::Processed => "processed".to_owned(),
    }
}
