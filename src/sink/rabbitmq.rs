//! RabbitMQ (AMQP 0-9-1): publish to an exchange with a routing key, persistent, with
//! `message_id` = the outbox Id and `type` = the message type. Publisher confirms and the
//! `mandatory` flag: only a message the broker acknowledged *and* routed to a queue counts as
//! delivered; a nack or an unroutable return is a failure, retried with backoff (binding a
//! queue later lets it through). A batch is published in one go and its confirms awaited
//! together.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};

use super::cloudevents::{self, CloudEventsMode};
use super::runtime::Background;
use super::settings::{RabbitmqSettings, expand};
use super::{DeliveryError, Sink};
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
    runtime: Option<Background>,
    /// The connection is kept alive beside its channel.
    open: Option<(Connection, Channel)>,
}

impl RabbitmqSink {
    pub fn new(s: &RabbitmqSettings) -> Self {
        let url = s.resolved_url.0.clone();
        RabbitmqSink {
            shown_url: redact_url(&url),
            redactor: Redactor::for_url(&url),
            url,
            exchange: s.exchange.clone(),
            routing_key: s.routing_key.clone(),
            timeout: s.timeout(),
            max_in_flight: s.max_in_flight(),
            cloudevents: s.cloudevents,
            source: s.source.clone(),
            runtime: None,
            open: None,
        }
    }

    fn fail(&self, what: &str, e: impl std::fmt::Display) -> DeliveryError {
        DeliveryError::retryable(self.redactor.scrub(&format!("{what} ({}): {e}", self.shown_url)))
    }

    /// Connects on first use and after any error, so a broker that is down fails deliveries
    /// (to be retried) instead of stopping the relay.
    fn connect(&mut self) -> Result<(), DeliveryError> {
        if self.runtime.is_none() {
            let rt = Background::start("rabbitmq").map_err(|e| self.fail("starting the AMQP client", e))?;
            self.runtime = Some(rt);
        }
        if self
            .open
            .as_ref()
            .is_some_and(|(c, ch)| c.status().connected() && ch.status().connected())
        {
            return Ok(());
        }
        self.open = None;
        let (url, timeout) = (self.url.clone(), self.timeout);
        let rt = self.runtime.as_ref().expect("started above");
        let opened = rt.block_on(async move {
            tokio::time::timeout(timeout, async {
                let connection = Connection::connect(&url, ConnectionProperties::default()).await?;
                let channel = connection.create_channel().await?;
                channel.confirm_select(ConfirmSelectOptions::default()).await?;
                Ok::<_, lapin::Error>((connection, channel))
            })
            .await
        });
        match opened {
            Ok(Ok(open)) => {
                self.open = Some(open);
                Ok(())
            }
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
            .with_message_id(m.id.as_str().into())
            .with_type(m.event_type.as_str().into())
            .with_content_type(content_type.into())
            .with_delivery_mode(2)
            .with_timestamp(timestamp);
        if !attributes.is_empty() {
            // The AMQP protocol binding's prefix for CloudEvents attributes.
            let mut headers = FieldTable::default();
            for (name, value) in attributes {
                headers.insert(
                    format!("cloudEvents:{name}").as_str().into(),
                    AMQPValue::LongString(value.as_str().into()),
                );
            }
            props = props.with_headers(headers);
        }
        props
    }

    fn publish_all(&mut self, messages: &[Message]) -> Vec<Result<(), DeliveryError>> {
        if let Err(e) = self.connect() {
            return messages.iter().map(|_| Err(e.clone())).collect();
        }
        let mut prepared = Vec::with_capacity(messages.len());
        for m in messages {
            prepared.push(
                cloudevents::encode(m, self.cloudevents, self.source.as_deref()).map(|e| {
                    let props = self.properties(m, e.content_type, &e.attributes);
                    (expand(&self.routing_key, &m.event_type), e.body, props)
                }),
            );
        }
        let rt = self.runtime.as_ref().expect("connected");
        let channel = self.open.as_ref().expect("connected").1.clone();
        let (timeout, exchange) = (self.timeout, self.exchange.clone());
        let outcomes = rt.run(async move {
            let exchange = exchange.as_str();
            // The whole batch shares one deadline, so it never takes longer than one delivery may.
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
        let outcomes: Vec<Outcome> = match outcomes {
            Ok(o) => o,
            Err(e) => messages.iter().map(|_| Outcome::Broken(e.clone())).collect(),
        };
        let broken = outcomes.iter().any(|o| matches!(o, Outcome::Broken(_)));
        let results = outcomes
            .into_iter()
            .map(|o| match o {
                Outcome::Delivered => Ok(()),
                Outcome::Malformed(e) => Err(e),
                Outcome::Refused(text) | Outcome::Broken(text) => Err(self.fail("RabbitMQ", text)),
            })
            .collect();
        if broken {
            // A channel or connection error closes the channel: open afresh next time.
            self.open = None;
        }
        results
    }
}

/// What became of one message of a batch.
enum Outcome {
    Delivered,
    /// Content that cannot be sent (permanent).
    Malformed(DeliveryError),
    /// The broker answered no: nacked or returned unroutable. The channel is fine.
    Refused(String),
    /// No answer, or the channel failed: reconnect before the next try.
    Broken(String),
}

impl Sink for RabbitmqSink {
    fn deliver(&mut self, m: &Message) -> Result<(), DeliveryError> {
        self.publish_all(std::slice::from_ref(m))
            .pop()
            .expect("one outcome per message")
    }

    fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    fn deliver_batch(&mut self, messages: &[Message]) -> Vec<Result<(), DeliveryError>> {
        self.publish_all(messages)
    }
}
