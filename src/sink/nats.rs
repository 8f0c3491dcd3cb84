//! NATS JetStream. Each message is published with `Nats-Msg-Id` = the outbox Id, so the
//! stream's duplicate window drops a redelivery (the relay crashed after the publish, before
//! marking). A message counts as delivered only once JetStream acknowledged it. A run is
//! published in one go and its acknowledgements awaited together, so many are in flight at once.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use tokio::sync::oneshot;

use super::cloudevents::{self, CloudEventsMode};
use super::runtime::Background;
use super::settings::{ResolvedNats, expand};
use super::{DeliveryError, Pending, Sink};
use crate::model::Message;
use crate::redact::{Redactor, redact_url};

pub struct NatsSink {
    url: String,
    shown_url: String,
    subject: String,
    timeout: Duration,
    max_in_flight: usize,
    cloudevents: Option<CloudEventsMode>,
    source: Option<String>,
    redactor: Redactor,
    /// Connected on first use.
    client: Option<Client>,
}

/// A JetStream client and the runtime it runs on.
struct Client {
    runtime: Background,
    context: jetstream::Context,
    /// Resolves once the last run sent has published everything.
    published: Option<oneshot::Receiver<()>>,
}

/// A message ready to publish: its subject, headers and body.
type Prepared = (String, HeaderMap, Vec<u8>);

impl NatsSink {
    pub fn new(s: &ResolvedNats) -> Self {
        let url = s.url.0.clone();
        NatsSink {
            shown_url: redact_url(&url),
            redactor: Redactor::for_url(&url),
            url,
            subject: s.subject.clone(),
            timeout: s.timeout,
            max_in_flight: s.max_in_flight,
            cloudevents: s.cloudevents,
            source: s.source.clone(),
            client: None,
        }
    }

    fn fail(&self, what: &str, e: impl std::fmt::Display) -> DeliveryError {
        DeliveryError::Retryable(self.redactor.scrub(&format!("{what} ({}): {e}", self.shown_url)))
    }

    /// Connects on first use, so a server that is down fails deliveries (to be retried) instead
    /// of stopping the relay from starting. Once connected, the client reconnects by itself.
    fn connect(&self) -> Result<Client, DeliveryError> {
        let runtime = Background::start("nats").map_err(|e| self.fail("starting the NATS client", e))?;
        let options = async_nats::ConnectOptions::new()
            .connection_timeout(self.timeout)
            .name("outboxctl");
        let (url, timeout) = (self.url.clone(), self.timeout);
        // The context spawns its acknowledgement task, so it is made inside the runtime.
        let context = runtime
            .block_on(async move {
                let client = options.connect(url).await?;
                let mut context = jetstream::new(client);
                context.set_timeout(timeout);
                Ok::<_, async_nats::ConnectError>(context)
            })
            .map_err(|e| self.fail("cannot connect to NATS", e))?;
        Ok(Client {
            runtime,
            context,
            published: None,
        })
    }

    /// Fails permanently when the content cannot be encoded.
    fn prepare(&self, m: &Message) -> Result<Prepared, DeliveryError> {
        let encoded = cloudevents::encode(m, self.cloudevents, self.source.as_deref())?;
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", m.delivery_id());
        if m.delivery_id.is_some() {
            headers.insert("Outbox-Id", m.id.as_str());
        }
        headers.insert("Outbox-Type", m.event_type.as_str());
        if let Some(key) = &m.key {
            headers.insert("Outbox-Ordering-Key", key.as_str());
        }
        if let Some((parent, state)) = m.trace() {
            headers.insert("traceparent", parent);
            if let Some(state) = state {
                headers.insert("tracestate", state);
            }
        }
        headers.insert("Content-Type", encoded.content_type);
        for (name, value) in &encoded.attributes {
            headers.insert(format!("ce-{name}").as_str(), value.as_str());
        }
        Ok((expand(&self.subject, &m.event_type), headers, encoded.body))
    }
}

/// Where a message of a run failed.
enum Failure {
    Malformed(DeliveryError),
    Publish(String),
    Ack(String),
}

impl Sink for NatsSink {
    /// Publishes the run on the runtime's thread and returns at once; the outcomes come with
    /// JetStream's acknowledgements.
    fn send(&mut self, run: &[Message]) -> Pending {
        let prepared: Vec<_> = run.iter().map(|m| self.prepare(m)).collect();
        let (redactor, shown_url) = (self.redactor.clone(), self.shown_url.clone());
        let timeout = self.timeout;
        let client = match self.client.take().map_or_else(|| self.connect(), Ok) {
            Ok(client) => self.client.insert(client),
            Err(e) => return Pending::failed(run.len(), e),
        };
        let context = client.context.clone();
        // Runs reach the server in the order they were sent: each publishes only once the one
        // before has published everything (not once it is acknowledged).
        let previous = client.published.take();
        let (published_tx, published_rx) = oneshot::channel::<()>();
        client.published = Some(published_rx);
        let task = client.runtime.spawn(async move {
            if let Some(previous) = previous {
                let _ = previous.await;
            }
            // The whole run shares one deadline, so it never takes longer than one delivery may.
            let deadline = tokio::time::Instant::now() + timeout;
            // Publish everything first, then collect the acknowledgements: one round trip's
            // worth of waiting for the whole run instead of one per message.
            let mut pending = Vec::with_capacity(prepared.len());
            for p in prepared {
                let (subject, headers, body) = match p {
                    Ok(p) => p,
                    Err(e) => {
                        pending.push(Err(Failure::Malformed(e)));
                        continue;
                    }
                };
                let sent = tokio::time::timeout_at(
                    deadline,
                    context.publish_with_headers(subject, headers, body.into()),
                )
                .await;
                pending.push(match sent {
                    Ok(Ok(ack)) => Ok(ack),
                    Ok(Err(e)) => Err(Failure::Publish(e.to_string())),
                    Err(_) => Err(Failure::Publish("timed out".into())),
                });
            }
            let _ = published_tx.send(());
            let mut outcomes = Vec::with_capacity(pending.len());
            for p in pending {
                outcomes.push(match p {
                    Ok(ack) => match tokio::time::timeout_at(deadline, ack.into_future()).await {
                        // A duplicate was stored on an earlier attempt: delivered all the same.
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err(e)) => Err(Failure::Ack(e.to_string())),
                        Err(_) => Err(Failure::Ack("timed out".into())),
                    },
                    Err(e) => Err(e),
                });
            }
            outcomes
        });
        let count = run.len();
        Pending::later(move || {
            let fail = |what: &str, e: &str| {
                DeliveryError::Retryable(redactor.scrub(&format!("{what} ({shown_url}): {e}")))
            };
            match task() {
                Ok(outcomes) => outcomes
                    .into_iter()
                    .map(|outcome| {
                        outcome.map_err(|failure| match failure {
                            Failure::Malformed(e) => e,
                            Failure::Publish(e) => fail("publishing to NATS", &e),
                            Failure::Ack(e) => fail("JetStream did not acknowledge", &e),
                        })
                    })
                    .collect(),
                Err(e) => vec![Err(fail("publishing to NATS", &e)); count],
            }
        })
    }

    fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }
}
