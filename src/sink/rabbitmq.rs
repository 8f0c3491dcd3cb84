//! RabbitMQ (AMQP 0-9-1): publish to an exchange with a routing key, persistent, with
//! `message_id` = the outbox Id and `type` = the message type. Publisher confirms and the
//! `mandatory` flag: only a message the broker acknowledged *and* routed to a queue counts as
//! delivered; a nack or an unroutable return is a failure, retried with backoff (binding a
//! queue later lets it through). A run is published in one go and its confirms awaited
//! together, while the relay records the run before.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use tokio::sync::oneshot;

use super::cloudevents::{self, CloudEventsMode};
use super::runtime::Background;
use super::settings::{ResolvedRabbitmq, expand};
use super::{DeliveryError, Pending, Sink};
use crate::model::Message;
use crate::redact::{Redactor, redact_url};

pub struct RabbitmqSink {
    url: String,
    shown_url: String,
    exchange: String,
    routing_key: String,
    timeout: Duration,
    max_in_flight: usize,
    cloudevents: Option<CloudEventsMode>,
    source: Option<String>,
    redactor: Redactor,
    /// Connected on first use and again after any error.
    client: Option<Client>,
}

/// A channel in confirm mode, the connection it lives on, and the runtime they run on.
struct Client {
    /// Shared with the runs still on their way, so reconnecting does not cut them short.
    runtime: Rc<Background>,
    /// Kept alive beside its channel.
    connection: Connection,
    channel: Channel,
    /// Resolves once the last run sent has published everything.
    published: Option<oneshot::Receiver<()>>,
    /// Set when a run got no answer or the channel failed: open afresh before the next run.
    broken: Rc<Cell<bool>>,
}

/// A message ready to publish: its routing key, body and properties.
type Prepared = (String, Vec<u8>, BasicProperties);

impl RabbitmqSink {
    pub fn new(s: &ResolvedRabbitmq) -> Self {
        let url = s.url.0.clone();
        RabbitmqSink {
            shown_url: redact_url(&url),
            redactor: Redactor::for_url(&url),
            url,
            exchange: s.exchange.clone(),
            routing_key: s.routing_key.clone(),
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

    /// The open channel, connecting on first use and after any error, so a broker that is down
    /// fails deliveries (to be retried) instead of stopping the relay.
    fn client(&mut self) -> Result<&mut Client, DeliveryError> {
        let client = match self.client.take() {
            Some(c)
                if !c.broken.get() && c.connection.status().connected() && c.channel.status().connected() =>
            {
                c
            }
            _ => self.connect()?,
        };
        Ok(self.client.insert(client))
    }

    fn connect(&self) -> Result<Client, DeliveryError> {
        let runtime = Background::start("rabbitmq").map_err(|e| self.fail("starting the AMQP client", e))?;
        let (url, timeout) = (self.url.clone(), self.timeout);
        let opened = runtime.block_on(async move {
            tokio::time::timeout(timeout, async {
                let connection = Connection::connect(&url, ConnectionProperties::default()).await?;
                let channel = connection.create_channel().await?;
                channel.confirm_select(ConfirmSelectOptions::default()).await?;
                Ok::<_, lapin::Error>((connection, channel))
            })
            .await
        });
        match opened {
            Ok(Ok((connection, channel))) => Ok(Client {
                runtime: Rc::new(runtime),
                connection,
                channel,
                published: None,
                broken: Rc::default(),
            }),
            Ok(Err(e)) => Err(self.fail("cannot connect to RabbitMQ", e)),
            Err(_) => Err(self.fail("cannot connect to RabbitMQ", "timed out")),
        }
    }

    fn properties(&self, m: &Message, content_type: &str, attributes: &[(&str, String)]) -> BasicProperties {
        let timestamp = m
            .occurred_on
            .map(|t| t.timestamp().max(0) as u64)
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            });
        let mut props = BasicProperties::default()
            .with_message_id(m.delivery_id().into())
            .with_type(m.event_type.as_str().into())
            .with_content_type(content_type.into())
            .with_delivery_mode(2)
            .with_timestamp(timestamp);
        if !attributes.is_empty() || m.key.is_some() || m.trace().is_some() || m.delivery_id.is_some() {
            // The AMQP protocol binding's prefix for CloudEvents attributes.
            let mut headers = FieldTable::default();
            for (name, value) in attributes {
                headers.insert(
                    format!("cloudEvents:{name}").as_str().into(),
                    AMQPValue::LongString(value.as_str().into()),
                );
            }
            if m.delivery_id.is_some() {
                headers.insert("outbox-id".into(), AMQPValue::LongString(m.id.as_str().into()));
            }
            if let Some(key) = &m.key {
                headers.insert(
                    "outbox-ordering-key".into(),
                    AMQPValue::LongString(key.as_str().into()),
                );
            }
            if let Some((parent, state)) = m.trace() {
                headers.insert("traceparent".into(), AMQPValue::LongString(parent.into()));
                if let Some(state) = state {
                    headers.insert("tracestate".into(), AMQPValue::LongString(state.into()));
                }
            }
            props = props.with_headers(headers);
        }
        props
    }

    /// Fails permanently when the content cannot be encoded.
    fn prepare(&self, m: &Message) -> Result<Prepared, DeliveryError> {
        let e = cloudevents::encode(m, self.cloudevents, self.source.as_deref())?;
        let props = self.properties(m, e.content_type, &e.attributes);
        Ok((expand(&self.routing_key, &m.event_type), e.body, props))
    }
}

impl Sink for RabbitmqSink {
    /// Publishes the run on the runtime's thread and returns at once; the outcomes come with
    /// the broker's confirms.
    fn send(&mut self, run: &[Message]) -> Pending {
        let prepared: Vec<_> = run.iter().map(|m| self.prepare(m)).collect();
        let (redactor, shown_url) = (self.redactor.clone(), self.shown_url.clone());
        let (timeout, exchange) = (self.timeout, self.exchange.clone());
        let client = match self.client() {
            Ok(client) => client,
            Err(e) => return Pending::failed(run.len(), e),
        };
        let channel = client.channel.clone();
        let broken = Rc::clone(&client.broken);
        // Runs reach the broker in the order they were sent: each publishes only once the one
        // before has published everything (not once it is confirmed).
        let previous = client.published.take();
        let (published_tx, published_rx) = oneshot::channel::<()>();
        client.published = Some(published_rx);
        let runtime = Rc::clone(&client.runtime);
        let task = runtime.spawn(async move {
            if let Some(previous) = previous {
                let _ = previous.await;
            }
            let exchange = exchange.as_str();
            // The whole run shares one deadline, so it never takes longer than one delivery may.
            let deadline = tokio::time::Instant::now() + timeout;
            // Publish everything first, then collect the confirms.
            let mut pending = Vec::with_capacity(prepared.len());
            for p in prepared {
                pending.push(match p {
                    Err(e) => Err(Outcome::Malformed(e)),
                    Ok((routing_key, body, props)) => {
                        let options = BasicPublishOptions {
                            mandatory: true,
                            ..BasicPublishOptions::default()
                        };
                        let sent = tokio::time::timeout_at(
                            deadline,
                            channel.basic_publish(exchange.into(), routing_key.as_str().into(), options, &body, props),
                        )
                        .await;
                        match sent {
                            Ok(Ok(confirm)) => Ok((confirm, routing_key)),
                            Ok(Err(e)) => Err(Outcome::Broken(format!("publishing: {e}"))),
                            Err(_) => Err(Outcome::Broken("publishing: timed out".to_owned())),
                        }
                    }
                });
            }
            let _ = published_tx.send(());
            let mut outcomes = Vec::with_capacity(pending.len());
            for p in pending {
                outcomes.push(match p {
                    Ok((confirm, routing_key)) => match tokio::time::timeout_at(deadline, confirm).await {
                        Ok(Ok(Confirmation::Ack(None))) => Outcome::Delivered,
                        Ok(Ok(Confirmation::Ack(Some(returned)))) => Outcome::Refused(format!(
                            "unroutable: exchange {exchange:?} routes routing key {routing_key:?} to no queue ({} {})",
                            returned.reply_code, returned.reply_text
                        )),
                        Ok(Ok(Confirmation::Nack(_))) => {
                            Outcome::Refused("the broker refused the message (nack)".to_owned())
                        }
                        Ok(Ok(Confirmation::NotRequested)) => {
                            Outcome::Broken("the broker did not confirm the message".to_owned())
                        }
                        Ok(Err(e)) => Outcome::Broken(format!("waiting for the confirm: {e}")),
                        Err(_) => Outcome::Broken("waiting for the confirm: timed out".to_owned()),
                    },
                    Err(outcome) => outcome,
                });
            }
            outcomes
        });
        let count = run.len();
        Pending::later(move || {
            let outcomes =
                task().unwrap_or_else(|e| (0..count).map(|_| Outcome::Broken(e.clone())).collect());
            drop(runtime);
            if outcomes.iter().any(|o| matches!(o, Outcome::Broken(_))) {
                // A channel or connection error closes the channel: open afresh next time.
                broken.set(true);
            }
            outcomes
                .into_iter()
                .map(|o| match o {
                    Outcome::Delivered => Ok(()),
                    Outcome::Malformed(e) => Err(e),
                    Outcome::Refused(text) | Outcome::Broken(text) => Err(DeliveryError::Retryable(
                        redactor.scrub(&format!("RabbitMQ ({shown_url}): {text}")),
                    )),
                })
                .collect()
        })
    }

    fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }
}

/// What became of one message of a run.
enum Outcome {
    Delivered,
    /// Content that cannot be sent (permanent).
    Malformed(DeliveryError),
    /// The broker answered no: nacked or returned unroutable. The channel is fine.
    Refused(String),
    /// No answer, or the channel failed: reconnect before the next try.
    Broken(String),
}
