//! NATS JetStream. Each message is published with `Nats-Msg-Id` = the outbox Id, so the
//! stream's duplicate window drops a redelivery (the relay crashed after the publish, before
//! marking). A message counts as delivered only once JetStream acknowledged it. A batch is
//! published in one go and its acknowledgements awaited together, so many are in flight at once.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;

use super::cloudevents::{self, CloudEventsMode};
use super::runtime::Background;
use super::settings::{NatsSettings, expand};
use super::{DeliveryError, InFlight, Sink};
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
    runtime: Option<Background>,
    context: Option<jetstream::Context>,
    /// Resolves once the last batch started has published everything.
    published: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl NatsSink {
    pub fn new(s: &NatsSettings) -> Self {
        let url = s.resolved_url.0.clone();
        NatsSink {
            shown_url: redact_url(&url),
            redactor: Redactor::for_url(&url),
            url,
            subject: s.subject.clone(),
            timeout: s.timeout(),
            max_in_flight: s.max_in_flight(),
            cloudevents: s.cloudevents,
            source: s.source.clone(),
            runtime: None,
            context: None,
            published: None,
        }
    }

    fn fail(&self, what: &str, e: impl std::fmt::Display) -> DeliveryError {
        DeliveryError::retryable(self.redactor.scrub(&format!("{what} ({}): {e}", self.shown_url)))
    }

    /// Connects on first use, so a server that is down fails deliveries (to be retried) instead
    /// of stopping the relay from starting. Once connected, the client reconnects by itself.
    fn connect(&mut self) -> Result<(), DeliveryError> {
        if self.runtime.is_none() {
            let rt = Background::start("nats").map_err(|e| self.fail("starting the NATS client", e))?;
            self.runtime = Some(rt);
        }
        if self.context.is_some() {
            return Ok(());
        }
        let options = async_nats::ConnectOptions::new()
            .connection_timeout(self.timeout)
            .name("outboxctl");
        let url = self.url.clone();
        let rt = self.runtime.as_ref().expect("started above");
        let timeout = self.timeout;
        // The context spawns its acknowledgement task, so it is made inside the runtime.
        let context = rt
            .block_on(async move {
                let client = options.connect(url).await?;
                let mut context = jetstream::new(client);
                context.set_timeout(timeout);
                Ok::<_, async_nats::ConnectError>(context)
            })
            .map_err(|e| self.fail("cannot connect to NATS", e))?;
        self.context = Some(context);
        Ok(())
    }

    /// Starts publishing a batch on the runtime's thread; the returned function waits for the
    /// acknowledgements.
    fn start(&mut self, messages: &[Message]) -> InFlight {
        if let Err(e) = self.connect() {
            let outcomes = messages.iter().map(|_| Err(e.clone())).collect();
            return Box::new(move || outcomes);
        }
        let mut prepared = Vec::with_capacity(messages.len());
        let mut malformed = Vec::new();
        for m in messages {
            prepared.push(
                cloudevents::encode(m, self.cloudevents, self.source.as_deref())
                    .map_err(|e| malformed.push(e))
                    .map(|encoded| {
                        let mut headers = HeaderMap::new();
                        headers.insert("Nats-Msg-Id", m.id.as_str());
                        headers.insert("Outbox-Type", m.event_type.as_str());
                        headers.insert("Content-Type", encoded.content_type);
                        for (name, value) in &encoded.attributes {
                            headers.insert(format!("ce-{name}").as_str(), value.as_str());
                        }
                        (expand(&self.subject, &m.event_type), headers, encoded.body)
                    }),
            );
        }
        let context = self.context.clone().expect("connected");
        let timeout = self.timeout;
        // Batches reach the server in the order they were started: each publishes only once
        // the one before has published everything (not once it is acknowledged).
        let previous = self.published.take();
        let (published_tx, published_rx) = tokio::sync::oneshot::channel::<()>();
        self.published = Some(published_rx);
        let task = self.runtime.as_ref().expect("connected").spawn(async move {
            if let Some(previous) = previous {
                let _ = previous.await;
            }
            // The whole batch shares one deadline, so it never takes longer than one delivery may.
            let deadline = tokio::time::Instant::now() + timeout;
            // Publish everything first, then collect the acknowledgements: one round trip's
            // worth of waiting for the whole batch instead of one per message.
            let mut pending = Vec::with_capacity(prepared.len());
            for p in prepared {
                let Ok((subject, headers, body)) = p else {
                    pending.push(Err(Stage::Malformed));
                    continue;
                };
                let sent = tokio::time::timeout_at(
                    deadline,
                    context.publish_with_headers(subject, headers, body.into()),
                )
                .await;
                pending.push(match sent {
                    Ok(Ok(ack)) => Ok(ack),
                    Ok(Err(e)) => Err(Stage::Publish(e.to_string())),
                    Err(_) => Err(Stage::Publish("timed out".into())),
                });
            }
            let _ = published_tx.send(());
            let mut outcomes = Vec::with_capacity(pending.len());
            for p in pending {
                outcomes.push(match p {
                    Ok(ack) => match tokio::time::timeout_at(deadline, ack.into_future()).await {
                        // A duplicate was stored on an earlier attempt: delivered all the same.
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err(e)) => Err(Stage::Ack(e.to_string())),
                        Err(_) => Err(Stage::Ack("timed out".into())),
                    },
                    Err(e) => Err(e),
                });
            }
            outcomes
        });
        let (redactor, shown_url) = (self.redactor.clone(), self.shown_url.clone());
        let count = messages.len();
        Box::new(move || {
            let fail = |what: &str, e: &str| {
                DeliveryError::retryable(redactor.scrub(&format!("{what} ({shown_url}): {e}")))
            };
            let outcomes = match task() {
                Ok(outcomes) => outcomes,
                Err(e) => return (0..count).map(|_| Err(fail("publishing to NATS", &e))).collect(),
            };
            let mut malformed = malformed.into_iter();
            outcomes
                .into_iter()
                .map(|outcome| match outcome {
                    Ok(()) => Ok(()),
                    Err(Stage::Malformed) => Err(malformed.next().expect("one error per malformed message")),
                    Err(Stage::Publish(e)) => Err(fail("publishing to NATS", &e)),
                    Err(Stage::Ack(e)) => Err(fail("JetStream did not acknowledge", &e)),
                })
                .collect()
        })
    }
}

/// Where a message of a batch failed.
enum Stage {
    /// Its content cannot be encoded (the error waits outside the task, in order).
    Malformed,
    Publish(String),
    Ack(String),
}

impl Sink for NatsSink {
    fn deliver(&mut self, m: &Message) -> Result<(), DeliveryError> {
        self.start(std::slice::from_ref(m))()
            .pop()
            .expect("one outcome per message")
    }

    fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    fn deliver_batch(&mut self, messages: &[Message]) -> Vec<Result<(), DeliveryError>> {
        self.start(messages)()
    }

    fn start_batch(&mut self, messages: &[Message]) -> InFlight {
        self.start(messages)
    }
}
