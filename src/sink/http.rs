//! Webhooks: a POST of the message as JSON, signed the Standard Webhooks way
//! (<https://www.standardwebhooks.com/>): `webhook-id` is the outbox Id (the same on every
//! retry, so receivers can deduplicate), `webhook-timestamp` the Unix time of the attempt and
//! `webhook-signature` `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
//!
//! 2xx = delivered. 408, 429, 5xx and network errors = retry (honouring `Retry-After`).
//! Other answers = permanent: the message goes dead with the status and a bounded excerpt of
//! the body in `Error`.
//!
//! Concurrency: a run of messages is POSTed by a pool of worker threads owned by the sink, at
//! most `max_in_flight` requests at once, each on a pooled keep-alive connection. Within a run
//! the requests overlap, so they may reach the receiver in any order. Runs follow one another:
//! a run's first request leaves only once every request of the run before has been answered
//! (or has failed), so what the relay sends later never arrives before what it sent earlier
//! in another run. A run of one is POSTed on the caller's thread, as before.

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::cloudevents::{self, CloudEventsMode};
use super::settings::ResolvedHttp;
use super::signing::SigningKey;
use super::{DeliveryError, Outcomes, Pending, Sink};
use crate::model::Message;
use crate::redact::{Redactor, redact_url};

/// How much of an error response's body is kept in `Error`.
const BODY_EXCERPT: usize = 512;

pub struct HttpSink {
    poster: Arc<Poster>,
    max_in_flight: usize,
    /// Started on the first run of more than one message, grown up to `max_in_flight`.
    workers: Option<Workers>,
    /// The run last handed to the workers: the next one starts once it is over.
    previous: Option<Arc<Run>>,
}

/// What makes and sends one request; shared by the workers.
struct Poster {
    agent: ureq::Agent,
    url: String,
    shown_url: String,
    key: Option<SigningKey>,
    headers: Vec<(String, String)>,
    cloudevents: Option<CloudEventsMode>,
    source: Option<String>,
    redactor: Redactor,
}

impl HttpSink {
    pub fn new(s: &ResolvedHttp) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(s.timeout))
            // Statuses are classified here, and a redirected POST is not what the sender asked for.
            .http_status_as_error(false)
            .max_redirects(0)
            // Every worker's connection stays open between runs (the defaults keep 3 per host).
            .max_idle_connections(s.max_in_flight.max(10))
            .max_idle_connections_per_host(s.max_in_flight.max(3))
            .user_agent(concat!("outboxctl/", env!("CARGO_PKG_VERSION")))
            .build();
        let url = s.url.0.clone();
        let mut redactor = Redactor::for_url(&url);
        if let Some(secret) = &s.secret {
            redactor.add(&secret.0, "***");
        }
        let poster = Poster {
            agent: config.into(),
            shown_url: redact_url(&url),
            url,
            key: s.key.clone(),
            headers: s.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            cloudevents: s.cloudevents,
            source: s.source.clone(),
            redactor,
        };
        HttpSink {
            poster: Arc::new(poster),
            max_in_flight: s.max_in_flight,
            workers: None,
            previous: None,
        }
    }
}

impl Poster {
    fn post(&self, m: &Message) -> Result<(), DeliveryError> {
        let encoded = cloudevents::encode(m, self.cloudevents, self.source.as_deref())?;
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut request = self
            .agent
            .post(&self.url)
            .header("content-type", encoded.content_type)
            .header("webhook-id", m.delivery_id())
            .header("webhook-timestamp", timestamp.to_string());
        if let Some(key) = &self.key {
            request = request.header(
                "webhook-signature",
                key.sign(m.delivery_id(), timestamp, &encoded.body),
            );
        }
        // A replay with a fresh delivery id: the message's own id goes beside it.
        if m.delivery_id.is_some() {
            request = request.header("outbox-id", &m.id);
        }
        if let Some((parent, state)) = m.trace() {
            request = request.header("traceparent", parent);
            if let Some(state) = state {
                request = request.header("tracestate", state);
            }
        }
        for (name, value) in &encoded.attributes {
            request = request.header(format!("ce-{name}"), value);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let mut response = match request.send(&encoded.body[..]) {
            Ok(r) => r,
            Err(e) => {
                return Err(DeliveryError::Retryable(
                    self.redactor.scrub(&format!("POST {}: {e}", self.shown_url)),
                ));
            }
        };
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let mut excerpt = Vec::new();
        let _ = response
            .body_mut()
            .as_reader()
            .take(BODY_EXCERPT as u64 + 1)
            .read_to_end(&mut excerpt);
        let text = excerpt_text(&excerpt);
        let message = self.redactor.scrub(&format!(
            "POST {} answered {status}{}",
            self.shown_url,
            if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            }
        ));
        let retryable = status == 408 || status == 429 || status >= 500;
        Err(match (retryable, retry_after) {
            (false, _) => DeliveryError::Permanent(message),
            (true, Some(after)) => DeliveryError::RetryAfter { message, after },
            (true, None) => DeliveryError::Retryable(message),
        })
    }
}

impl Sink for HttpSink {
    /// A run of one is POSTed at once, on this thread. A longer run goes to the workers, at
    /// most `max_in_flight` requests at a time, and this returns while they are in flight.
    /// Either way the run before is over first (see the module doc on order).
    fn send(&mut self, run: &[Message]) -> Pending {
        if let Some(previous) = self.previous.take() {
            previous.wait_over();
        }
        if run.len() < 2 || self.max_in_flight < 2 {
            return Pending::ready(run.iter().map(|m| self.poster.post(m)).collect());
        }
        let poster = &self.poster;
        let workers = self.workers.get_or_insert_with(Workers::new);
        workers.grow(run.len().min(self.max_in_flight), poster);
        let state = Arc::new(Run::new(run.to_vec()));
        for index in 0..run.len() {
            // A job the workers cannot take fails its message when dropped (see `Job`).
            workers.submit(Job {
                run: Arc::clone(&state),
                index,
                done: false,
            });
        }
        self.previous = Some(Arc::clone(&state));
        Pending::later(move || state.outcomes())
    }

    fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }
}

/// A run being delivered by the workers: its messages and their outcomes as they come in.
struct Run {
    messages: Vec<Message>,
    progress: Mutex<Progress>,
    over: Condvar,
}

struct Progress {
    outcomes: Vec<Option<Result<(), DeliveryError>>>,
    /// Messages still without an outcome.
    left: usize,
}

impl Run {
    fn new(messages: Vec<Message>) -> Self {
        let len = messages.len();
        Run {
            messages,
            progress: Mutex::new(Progress {
                outcomes: vec![None; len],
                left: len,
            }),
            over: Condvar::new(),
        }
    }

    fn complete(&self, index: usize, outcome: Result<(), DeliveryError>) {
        let mut p = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        if p.outcomes[index].replace(outcome).is_none() {
            p.left -= 1;
            if p.left == 0 {
                self.over.notify_all();
            }
        }
    }

    /// Blocks until every message has its outcome (each request is bounded by the timeout).
    fn finished(&self) -> MutexGuard<'_, Progress> {
        let p = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        self.over
            .wait_while(p, |p| p.left > 0)
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn wait_over(&self) {
        drop(self.finished());
    }

    /// The outcomes in the run's order, once all are in.
    fn outcomes(&self) -> Outcomes {
        let mut p = self.finished();
        p.outcomes
            .iter_mut()
            .map(|o| {
                o.take().unwrap_or_else(|| {
                    Err(DeliveryError::Retryable(
                        "the webhook gave no outcome for it".into(),
                    ))
                })
            })
            .collect()
    }
}

/// One message of a run for a worker to POST. Dropped without an outcome (the workers are
/// gone), it fails its message, to be retried, so a run never waits forever.
struct Job {
    run: Arc<Run>,
    index: usize,
    done: bool,
}

impl Job {
    fn deliver(mut self, poster: &Poster) {
        let outcome = poster.post(&self.run.messages[self.index]);
        self.done = true;
        self.run.complete(self.index, outcome);
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if !self.done {
            self.run.complete(
                self.index,
                Err(DeliveryError::Retryable(
                    "the webhook worker stopped before sending it".into(),
                )),
            );
        }
    }
}

/// Threads that take jobs from one queue, each sending one request at a time. Created once
/// and reused by every run; they end when the sink is dropped.
struct Workers {
    jobs: Option<Sender<Job>>,
    queue: Arc<Mutex<Receiver<Job>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    fn new() -> Self {
        let (jobs, queue) = channel();
        Workers {
            jobs: Some(jobs),
            queue: Arc::new(Mutex::new(queue)),
            threads: Vec::new(),
        }
    }

    /// Starts threads until there are `n`. One that cannot be started leaves fewer: the jobs
    /// wait for the others.
    fn grow(&mut self, n: usize, poster: &Arc<Poster>) {
        while self.threads.len() < n {
            let queue = Arc::clone(&self.queue);
            let poster = Arc::clone(poster);
            let spawned = std::thread::Builder::new()
                .name("outboxctl-http".into())
                .spawn(move || work(&queue, &poster));
            match spawned {
                Ok(t) => self.threads.push(t),
                Err(e) => {
                    tracing::warn!("cannot start a webhook worker thread: {e}");
                    break;
                }
            }
        }
    }

    fn submit(&self, job: Job) {
        if self.threads.is_empty() {
            // No worker to take it: dropped, it fails its message.
            return;
        }
        if let Some(jobs) = &self.jobs {
            // Fails only without receivers, and then the job dropped fails its message.
            let _ = jobs.send(job);
        }
    }
}

/// A worker: takes jobs until the sink is dropped. A panic while sending fails that one message
/// (the job is dropped) and the worker goes on.
fn work(queue: &Mutex<Receiver<Job>>, poster: &Poster) {
    loop {
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else { return };
        let _ = catch_unwind(AssertUnwindSafe(|| job.deliver(poster)));
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// `Retry-After` as seconds or as an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The start of a response body on one line, at most `BODY_EXCERPT` bytes.
fn excerpt_text(bytes: &[u8]) -> String {
    let cut = bytes.len().min(BODY_EXCERPT);
    let s = String::from_utf8_lossy(&bytes[..cut]);
    let flat: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let flat = flat.trim().to_owned();
    if bytes.len() > BODY_EXCERPT {
        format!("{flat}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn excerpts_are_bounded() {
        let long = vec![b'x'; 5000];
        assert!(excerpt_text(&long).len() <= BODY_EXCERPT + "…".len());
        assert_eq!(excerpt_text(b"bad\nrequest"), "bad request");
    }
}
