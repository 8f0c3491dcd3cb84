//! MQTT 5 or 3.1.1 (rumqttc). Each message is published with QoS 1 or 2, retain off; on MQTT 5
//! the outbox Id, type, ordering key and trace context go along as user properties (3.1.1 has
//! none: they are in the payload only). A message counts as delivered only
//! once the broker acknowledged it: PUBACK for QoS 1, PUBCOMP for QoS 2. A run is published in
//! one go and its acknowledgements awaited together, so many are in flight at once.
//!
//! rumqttc's event loop runs as a task on the sink's runtime. It reports each publish it writes
//! with its packet id (`Outgoing::Publish`, in the order the publishes were handed to it), so the
//! sink queues one waiter per publish and moves it under its packet id when that event comes;
//! the acknowledgement with that packet id settles it. After any connection error, or a run
//! that timed out, the connection is dropped (the event loop would otherwise resend the
//! unacknowledged publishes itself) and every unsettled message fails, to be retried by the
//! relay; the next run connects afresh with a clean session.
//!
//! `protocol = "auto"` connects with MQTT 5 and, when the broker refuses that version (a 3.1.1
//! broker answers with a 3.1.1 CONNACK the v5 client cannot read, or just closes), with 3.1.1,
//! which the sink then keeps to. The two versions differ only in [`Handle`] and [`Events`]; the
//! runs, waiters and acknowledgement bookkeeping are shared.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::v5::{
    ConnectReturnCode, Packet, PubAckReason, PubCompReason, PubRecReason, PublishProperties,
};
use rumqttc::v5::{self, Event};
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

use super::cloudevents::{self, CloudEventsMode};
use super::runtime::Background;
use super::settings::{MqttProtocol, ResolvedMqtt, expand};
use super::{DeliveryError, Pending, Sink};
use crate::model::Message;
use crate::redact::{Redactor, redact_url};

pub struct MqttSink {
    settings: ResolvedMqtt,
    shown_url: String,
    client_id: String,
    redactor: Redactor,
    /// Connected on first use, dropped after a connection error.
    client: Option<Client>,
    /// With `protocol = "auto"`: the broker refused MQTT 5 and took 3.1.1, so later connections
    /// go straight to 3.1.1.
    fell_back: bool,
}

/// The protocol version of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V5,
    V311,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Version::V5 => "MQTT 5",
            Version::V311 => "MQTT 3.1.1",
        })
    }
}

/// A client handle of either version.
#[derive(Clone)]
enum Handle {
    V5(v5::AsyncClient),
    V311(rumqttc::AsyncClient),
}

impl Handle {
    /// Hands a publish to the event loop; 3.1.1 has no properties to carry.
    async fn publish(
        &self,
        topic: String,
        qos2: bool,
        payload: Vec<u8>,
        properties: PublishProperties,
    ) -> Result<(), String> {
        match self {
            Handle::V5(c) => {
                let qos = if qos2 {
                    v5::mqttbytes::QoS::ExactlyOnce
                } else {
                    v5::mqttbytes::QoS::AtLeastOnce
                };
                c.publish_with_properties(topic, qos, false, payload, properties)
                    .await
                    .map_err(|e| e.to_string())
            }
            Handle::V311(c) => {
                let qos = if qos2 {
                    rumqttc::QoS::ExactlyOnce
                } else {
                    rumqttc::QoS::AtLeastOnce
                };
                c.publish(topic, qos, false, payload)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// An event loop of either version.
enum Events {
    // Boxed: both are large, and of different sizes.
    V5(Box<v5::EventLoop>),
    V311(Box<rumqttc::EventLoop>),
}

/// What an event means to the sink.
enum Step {
    Connected,
    /// The next queued publish was written under this packet id.
    Written(u16),
    /// The broker acknowledged (or refused) the publish with this packet id.
    Settled(u16, Result<(), Failure>),
    Other,
}

/// A connection error, and whether it says the broker does not speak the version tried.
struct Broken {
    reason: String,
    unsupported: bool,
}

impl Broken {
    fn v5(e: &v5::ConnectionError) -> Self {
        use v5::{ConnectionError as E, StateError as S};
        // A 3.1.1 broker answers a v5 CONNECT with a 3.1.1 CONNACK (return code 1), which the v5
        // client cannot read, or closes the connection; an MQTT 5 broker that will not speak 5
        // says so with its reason code.
        let unsupported = matches!(
            e,
            E::ConnectionRefused(
                ConnectReturnCode::UnsupportedProtocolVersion | ConnectReturnCode::RefusedProtocolVersion
            ) | E::MqttState(S::Deserialization(_) | S::ConnectionAborted)
        ) || matches!(e, E::Io(io) if matches!(io.kind(), std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof));
        Broken {
            reason: e.to_string(),
            unsupported,
        }
    }

    fn v311(e: &rumqttc::ConnectionError) -> Self {
        use rumqttc::{ConnectReturnCode as C, ConnectionError as E};
        Broken {
            reason: e.to_string(),
            unsupported: matches!(e, E::ConnectionRefused(C::RefusedProtocolVersion)),
        }
    }

    fn timed_out() -> Self {
        Broken {
            reason: "timed out".to_owned(),
            unsupported: false,
        }
    }
}

impl Events {
    async fn next(&mut self, qos2: bool) -> Result<Step, Broken> {
        use rumqttc::{Event as E4, Packet as P4};
        Ok(match self {
            Events::V5(events) => match events.poll().await.map_err(|e| Broken::v5(&e))? {
                Event::Incoming(Packet::ConnAck(_)) => Step::Connected,
                Event::Outgoing(Outgoing::Publish(pkid)) => Step::Written(pkid),
                Event::Incoming(Packet::PubAck(ack)) if !qos2 => Step::Settled(ack.pkid, puback(&ack.reason)),
                // A PUBREC only settles a refusal; success waits for the PUBCOMP.
                Event::Incoming(Packet::PubRec(rec)) if qos2 => match pubrec(&rec.reason) {
                    Ok(()) => Step::Other,
                    Err(failure) => Step::Settled(rec.pkid, Err(failure)),
                },
                Event::Incoming(Packet::PubComp(comp)) if qos2 => {
                    let outcome = match comp.reason {
                        PubCompReason::Success => Ok(()),
                        other => refused("PUBCOMP", other, false),
                    };
                    Step::Settled(comp.pkid, outcome)
                }
                _ => Step::Other,
            },
            // 3.1.1 acknowledgements carry no reason: an acknowledgement is a delivery.
            Events::V311(events) => match events.poll().await.map_err(|e| Broken::v311(&e))? {
                E4::Incoming(P4::ConnAck(_)) => Step::Connected,
                E4::Outgoing(Outgoing::Publish(pkid)) => Step::Written(pkid),
                E4::Incoming(P4::PubAck(ack)) if !qos2 => Step::Settled(ack.pkid, Ok(())),
                E4::Incoming(P4::PubComp(comp)) if qos2 => Step::Settled(comp.pkid, Ok(())),
                _ => Step::Other,
            },
        })
    }
}

/// A connection: its runtime, the client handle and what the event loop task shares.
struct Client {
    runtime: Background,
    client: Handle,
    version: Version,
    shared: Arc<Shared>,
    /// Resolves once the last run sent has published everything.
    published: Option<oneshot::Receiver<()>>,
}

/// Why a message was not confirmed.
#[derive(Debug)]
enum Failure {
    Malformed(DeliveryError),
    /// The broker answered with an error reason code.
    Refused {
        reason: String,
        permanent: bool,
    },
    /// The connection failed (or was dropped) before the acknowledgement came.
    Lost(String),
}

type Waiter = oneshot::Sender<Result<(), Failure>>;

/// Between the runs and the event loop task.
struct Shared {
    state: Mutex<State>,
    /// Tells the event loop task to stop (the connection is given up).
    stop: Notify,
}

#[derive(Default)]
struct State {
    /// Why the connection is unusable, once it is.
    dead: Option<String>,
    /// Waiters of publishes handed to the client, not yet written by the event loop.
    queued: VecDeque<Waiter>,
    /// Waiters of written publishes, by packet id.
    sent: HashMap<u16, Waiter>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues the waiter of a publish about to be handed to the client; fails when the
    /// connection is already given up.
    fn enqueue(&self, waiter: Waiter) -> Result<(), String> {
        let mut state = self.lock();
        match &state.dead {
            Some(reason) => Err(reason.clone()),
            None => {
                state.queued.push_back(waiter);
                Ok(())
            }
        }
    }

    /// The event loop wrote the next publish under `pkid`.
    fn written(&self, pkid: u16) {
        let mut state = self.lock();
        if let Some(waiter) = state.queued.pop_front() {
            state.sent.insert(pkid, waiter);
        }
    }

    fn settle(&self, pkid: u16, outcome: Result<(), Failure>) {
        if let Some(waiter) = self.lock().sent.remove(&pkid) {
            let _ = waiter.send(outcome);
        }
    }

    fn dead(&self) -> bool {
        self.lock().dead.is_some()
    }

    /// Gives the connection up: every unsettled message fails with `reason`.
    fn kill(&self, reason: &str) {
        let waiters: Vec<Waiter> = {
            let mut state = self.lock();
            if state.dead.is_none() {
                state.dead = Some(reason.to_owned());
            }
            let mut waiters: Vec<Waiter> = state.queued.drain(..).collect();
            waiters.extend(state.sent.drain().map(|(_, w)| w));
            waiters
        };
        for waiter in waiters {
            let _ = waiter.send(Err(Failure::Lost(reason.to_owned())));
        }
        self.stop.notify_one();
    }
}

/// A message ready to publish: its topic, properties and payload.
type Prepared = (String, PublishProperties, Vec<u8>);

impl MqttSink {
    pub fn new(s: &ResolvedMqtt) -> Self {
        let url = &s.url.0;
        let mut redactor = Redactor::for_url(url);
        if let Some(password) = &s.password {
            redactor.add_secret(&password.0);
        }
        MqttSink {
            shown_url: redact_url(url),
            redactor,
            client_id: s
                .client_id
                .clone()
                .unwrap_or_else(|| format!("outboxctl-{:016x}", fastrand::u64(..))),
            settings: s.clone(),
            client: None,
            fell_back: false,
        }
    }

    fn fail(&self, what: &str, e: impl std::fmt::Display) -> DeliveryError {
        DeliveryError::Retryable(self.redactor.scrub(&format!("{what} ({}): {e}", self.shown_url)))
    }

    /// Connects on first use, so a broker that is down fails deliveries (to be retried) instead
    /// of stopping the relay from starting. Waits for the broker's CONNACK, then leaves the
    /// event loop to a task of its own.
    fn connect(&mut self) -> Result<Client, DeliveryError> {
        let runtime = Background::start("mqtt").map_err(|e| self.fail("starting the MQTT client", e))?;
        let protocol = self.settings.protocol;
        let first = match protocol {
            MqttProtocol::V311 => Version::V311,
            MqttProtocol::Auto if self.fell_back => Version::V311,
            MqttProtocol::Auto | MqttProtocol::V5 => Version::V5,
        };
        // Both attempts share one deadline, so connecting never takes longer than `timeout`.
        let deadline = Instant::now() + self.settings.timeout;
        let opened = match runtime.block_on(self.open(first, deadline)) {
            Ok(opened) => opened,
            Err(e) if e.unsupported && first == Version::V5 && protocol == MqttProtocol::Auto => {
                match runtime.block_on(self.open(Version::V311, deadline)) {
                    Ok(opened) => {
                        tracing::info!(
                            "the MQTT broker ({}) refused MQTT 5, using MQTT 3.1.1 (no user properties)",
                            self.shown_url
                        );
                        self.fell_back = true;
                        opened
                    }
                    Err(e311) => {
                        let both = format!("MQTT 5: {}; MQTT 3.1.1: {}", e.reason, e311.reason);
                        return Err(self.fail("cannot connect to the MQTT broker", both));
                    }
                }
            }
            Err(e) if e.unsupported => {
                let setting = match protocol {
                    MqttProtocol::Auto => "\"auto\"",
                    MqttProtocol::V5 => "\"5\"; \"auto\" falls back to 3.1.1",
                    MqttProtocol::V311 => "\"3.1.1\"",
                };
                let why = format!(
                    "the broker refused or did not understand {first} (protocol = {setting}): {}",
                    e.reason
                );
                return Err(self.fail("cannot connect to the MQTT broker", why));
            }
            Err(e) => return Err(self.fail("cannot connect to the MQTT broker", e.reason)),
        };
        let (client, events) = opened;
        let version = match client {
            Handle::V5(_) => Version::V5,
            Handle::V311(_) => Version::V311,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            stop: Notify::new(),
        });
        let qos2 = self.settings.qos == 2;
        // The task ends with the connection; its handle is not needed.
        drop(runtime.spawn(drive(events, Arc::clone(&shared), qos2)));
        Ok(Client {
            runtime,
            client,
            version,
            shared,
            published: None,
        })
    }

    /// Connects with `version` and waits for the broker's CONNACK.
    async fn open(&self, version: Version, deadline: Instant) -> Result<(Handle, Events), Broken> {
        let s = &self.settings;
        let (id, host) = (self.client_id.clone(), s.host.clone());
        let credentials = s
            .username
            .clone()
            .map(|user| (user, s.password.as_ref().map(|p| p.0.clone()).unwrap_or_default()));
        let keep_alive = Duration::from_secs(30);
        let connect_timeout = s.timeout.as_secs().max(1);
        let inflight = u16::try_from(s.max_in_flight).unwrap_or(u16::MAX);
        let capacity = s.max_in_flight.clamp(10, 1024);
        let (client, mut events) = match version {
            Version::V5 => {
                let mut options = v5::MqttOptions::new(id, host, s.port);
                options
                    .set_clean_start(true)
                    .set_keep_alive(keep_alive)
                    .set_connection_timeout(connect_timeout)
                    .set_outgoing_inflight_upper_limit(inflight);
                if let Some((user, password)) = credentials {
                    options.set_credentials(user, password);
                }
                let (client, events) = v5::AsyncClient::new(options, capacity);
                (Handle::V5(client), Events::V5(Box::new(events)))
            }
            Version::V311 => {
                let mut options = rumqttc::MqttOptions::new(id, host, s.port);
                options
                    .set_clean_session(true)
                    .set_keep_alive(keep_alive)
                    .set_inflight(inflight)
                    // The 10 KiB default would refuse larger messages; MQTT allows 256 MiB.
                    .set_max_packet_size(64 * 1024, 256 * 1024 * 1024);
                if let Some((user, password)) = credentials {
                    options.set_credentials(user, password);
                }
                let (client, mut events) = rumqttc::AsyncClient::new(options, capacity);
                let mut network = events.network_options();
                network.set_connection_timeout(connect_timeout);
                events.set_network_options(network);
                (Handle::V311(client), Events::V311(Box::new(events)))
            }
        };
        tokio::time::timeout_at(deadline, async {
            loop {
                if let Step::Connected = events.next(false).await? {
                    return Ok(());
                }
            }
        })
        .await
        .map_err(|_| Broken::timed_out())??;
        Ok((client, events))
    }

    /// Fails permanently when the content cannot be encoded or the topic is not one.
    fn prepare(&self, m: &Message, version: Version) -> Result<Prepared, DeliveryError> {
        let mut mode = self.settings.cloudevents;
        if version == Version::V311 && mode == Some(CloudEventsMode::Binary) {
            // 3.1.1 has no user properties for the attributes: its CloudEvents binding is
            // structured only.
            mode = Some(CloudEventsMode::Structured);
        }
        let encoded = cloudevents::encode(m, mode, self.settings.source.as_deref())?;
        let topic = expand(&self.settings.topic, &m.event_type);
        if topic.is_empty() || topic.contains(['+', '#', '\0']) || topic.len() > usize::from(u16::MAX) {
            return Err(DeliveryError::Permanent(format!(
                "type {} makes an invalid MQTT topic name",
                m.event_type
            )));
        }
        if version == Version::V311 {
            return Ok((topic, PublishProperties::default(), encoded.body));
        }
        let mut user = vec![
            ("outbox-id".to_owned(), m.id.clone()),
            ("outbox-type".to_owned(), m.event_type.clone()),
        ];
        if let Some(id) = &m.delivery_id {
            user.push(("outbox-delivery-id".to_owned(), id.clone()));
        }
        if let Some(key) = &m.key {
            user.push(("outbox-ordering-key".to_owned(), key.clone()));
        }
        if let Some((parent, state)) = m.trace() {
            user.push(("traceparent".to_owned(), parent.to_owned()));
            if let Some(state) = state {
                user.push(("tracestate".to_owned(), state.to_owned()));
            }
        }
        // CloudEvents binary mode (the MQTT 5 binding): attributes as user properties by name.
        for (name, value) in encoded.attributes {
            if !matches!(name, "traceparent" | "tracestate") {
                user.push((name.to_owned(), value));
            }
        }
        let properties = PublishProperties {
            content_type: Some(encoded.content_type.to_owned()),
            user_properties: user,
            ..PublishProperties::default()
        };
        Ok((topic, properties, encoded.body))
    }
}

/// Polls the event loop until the connection fails or is given up, settling waiters as the
/// publishes are written and acknowledged.
async fn drive(mut events: Events, shared: Arc<Shared>, qos2: bool) {
    let reason = loop {
        let step = tokio::select! {
            () = shared.stop.notified() => break "the connection was closed".to_owned(),
            step = events.next(qos2) => step,
        };
        match step {
            Ok(Step::Written(pkid)) => shared.written(pkid),
            Ok(Step::Settled(pkid, outcome)) => shared.settle(pkid, outcome),
            Ok(Step::Connected | Step::Other) => {}
            Err(e) => break e.reason,
        }
    };
    shared.kill(&reason);
}

fn refused(packet: &str, reason: impl std::fmt::Debug, permanent: bool) -> Result<(), Failure> {
    Err(Failure::Refused {
        reason: format!("{packet} {reason:?}"),
        permanent,
    })
}

/// "No matching subscribers" is a success: the broker took the message.
fn puback(reason: &PubAckReason) -> Result<(), Failure> {
    use PubAckReason as R;
    match reason {
        R::Success | R::NoMatchingSubscribers => Ok(()),
        R::NotAuthorized | R::TopicNameInvalid | R::PayloadFormatInvalid => refused("PUBACK", reason, true),
        other => refused("PUBACK", other, false),
    }
}

fn pubrec(reason: &PubRecReason) -> Result<(), Failure> {
    use PubRecReason as R;
    match reason {
        R::Success | R::NoMatchingSubscribers => Ok(()),
        R::NotAuthorized | R::TopicNameInvalid | R::PayloadFormatInvalid => refused("PUBREC", reason, true),
        other => refused("PUBREC", other, false),
    }
}

impl Sink for MqttSink {
    /// Publishes the run on the runtime's thread and returns at once; the outcomes come with
    /// the broker's acknowledgements.
    fn send(&mut self, run: &[Message]) -> Pending {
        let (redactor, shown_url) = (self.redactor.clone(), self.shown_url.clone());
        let (timeout, qos2) = (self.settings.timeout, self.settings.qos == 2);
        // A connection given up is replaced: the next run starts on a clean session.
        if self.client.as_ref().is_some_and(|c| c.shared.dead()) {
            self.client = None;
        }
        let client = match self.client.take().map_or_else(|| self.connect(), Ok) {
            Ok(client) => client,
            Err(e) => return Pending::failed(run.len(), e),
        };
        // Prepared once connected: what a message carries depends on the protocol version.
        let prepared: Vec<_> = run.iter().map(|m| self.prepare(m, client.version)).collect();
        let client = self.client.insert(client);
        let (handle, shared) = (client.client.clone(), Arc::clone(&client.shared));
        // Runs reach the broker in the order they were sent: each publishes only once the one
        // before has handed over everything (not once it is acknowledged).
        let previous = client.published.take();
        let (published_tx, published_rx) = oneshot::channel::<()>();
        client.published = Some(published_rx);
        let task = client.runtime.spawn(async move {
            if let Some(previous) = previous {
                let _ = previous.await;
            }
            // The whole run shares one deadline, so it never takes longer than one delivery may.
            let deadline = tokio::time::Instant::now() + timeout;
            let mut pending = Vec::with_capacity(prepared.len());
            for p in prepared {
                let (topic, properties, payload) = match p {
                    Ok(p) => p,
                    Err(e) => {
                        pending.push(Err(Failure::Malformed(e)));
                        continue;
                    }
                };
                let (tx, rx) = oneshot::channel();
                if let Err(reason) = shared.enqueue(tx) {
                    pending.push(Err(Failure::Lost(reason)));
                    continue;
                }
                let sent =
                    tokio::time::timeout_at(deadline, handle.publish(topic, qos2, payload, properties)).await;
                // A publish not handed over leaves its waiter queued without a packet: the
                // waiters would no longer line up with the packets, so the connection goes.
                let lost = match sent {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e),
                    Err(_) => Some("timed out".to_owned()),
                };
                if let Some(reason) = lost {
                    shared.kill(&reason);
                }
                pending.push(Ok(rx));
            }
            let _ = published_tx.send(());
            let mut outcomes = Vec::with_capacity(pending.len());
            for p in pending {
                outcomes.push(match p {
                    Ok(rx) => match tokio::time::timeout_at(deadline, rx).await {
                        Ok(Ok(outcome)) => outcome,
                        Ok(Err(_)) => Err(Failure::Lost("the connection closed".into())),
                        Err(_) => {
                            let reason = "timed out waiting for the acknowledgement";
                            shared.kill(reason);
                            Err(Failure::Lost(reason.into()))
                        }
                    },
                    Err(e) => Err(e),
                });
            }
            outcomes
        });
        let count = run.len();
        Pending::later(move || {
            let text = |what: &str, e: &str| redactor.scrub(&format!("{what} ({shown_url}): {e}"));
            match task() {
                Ok(outcomes) => outcomes
                    .into_iter()
                    .map(|outcome| {
                        outcome.map_err(|failure| match failure {
                            Failure::Malformed(e) => e,
                            Failure::Refused { reason, permanent } => {
                                let message = text("the MQTT broker refused the message", &reason);
                                if permanent {
                                    DeliveryError::Permanent(message)
                                } else {
                                    DeliveryError::Retryable(message)
                                }
                            }
                            Failure::Lost(e) => {
                                DeliveryError::Retryable(text("publishing to the MQTT broker", &e))
                            }
                        })
                    })
                    .collect(),
                Err(e) => vec![
                    Err(DeliveryError::Retryable(text(
                        "publishing to the MQTT broker",
                        &e
                    )));
                    count
                ],
            }
        })
    }

    fn max_in_flight(&self) -> usize {
        self.settings.max_in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::super::settings::MqttSettings;
    use super::*;

    fn settings(toml_text: &str) -> MqttSettings {
        toml::from_str(toml_text).unwrap()
    }

    fn resolve(toml_text: &str) -> Result<ResolvedMqtt, String> {
        settings(toml_text).resolve(&|var| (var == "MQTT_URL").then(|| "mqtt://u:p%40ss@broker:1884".into()))
    }

    #[test]
    fn the_url_is_taken_apart_with_its_credentials_decoded() {
        let r = resolve("topic = \"events/{type}\"\nurl_env = \"MQTT_URL\"").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("broker", 1884));
        assert_eq!(r.username.as_deref(), Some("u"));
        assert_eq!(r.password.as_ref().map(|p| p.0.as_str()), Some("p@ss"));
        assert_eq!(r.qos, 1);
        let r = resolve("topic = \"t\"\nqos = 2").unwrap();
        assert_eq!((r.host.as_str(), r.port, r.qos), ("127.0.0.1", 1883, 2));
        assert!(r.username.is_none() && r.password.is_none());
    }

    #[test]
    fn qos_0_tls_wildcards_and_paths_are_refused() {
        let err = |t: &str| resolve(t).unwrap_err();
        assert!(err("topic = \"t\"\nqos = 0").starts_with("qos = 0 cannot confirm a delivery"));
        assert_eq!(err("topic = \"t\"\nqos = 3"), "qos must be 1 or 2, not 3");
        assert!(err("topic = \"t\"\nurl = \"mqtts://u:pw@h\"").contains("TLS (mqtts://) is not supported"));
        assert!(!err("topic = \"t\"\nurl = \"mqtts://u:pw@h\"").contains("pw"));
        assert!(err("topic = \"a/+/b\"").contains("wildcards"));
        assert!(err("topic = \"\"").contains("must not be empty"));
        assert!(err("topic = \"t\"\nurl = \"mqtt://h/x\"").contains("path"));
        assert!(err("topic = \"t\"\nurl = \"http://h\"").contains("mqtt://"));
    }

    #[test]
    fn protocol_is_auto_5_or_3_1_1() {
        assert_eq!(resolve("topic = \"t\"").unwrap().protocol, MqttProtocol::Auto);
        for (text, want) in [
            ("auto", MqttProtocol::Auto),
            ("5", MqttProtocol::V5),
            ("3.1.1", MqttProtocol::V311),
        ] {
            let r = resolve(&format!("topic = \"t\"\nprotocol = \"{text}\"")).unwrap();
            assert_eq!(r.protocol, want);
        }
        for bad in ["4", "3.1", "v5", "", "5\nx"] {
            let e = resolve(&format!("topic = \"t\"\nprotocol = {bad:?}")).unwrap_err();
            assert!(
                e.starts_with("protocol must be \"auto\", \"5\" or \"3.1.1\", not"),
                "{e}"
            );
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }

    #[test]
    fn cloudevents_binary_needs_mqtt_5() {
        let e = resolve("topic = \"t\"\nprotocol = \"3.1.1\"\ncloudevents = \"binary\"").unwrap_err();
        assert!(e.starts_with("cloudevents = \"binary\" needs MQTT 5"), "{e}");
        resolve("topic = \"t\"\nprotocol = \"3.1.1\"\ncloudevents = \"structured\"").unwrap();
        resolve("topic = \"t\"\ncloudevents = \"binary\"").unwrap();
    }

    #[test]
    fn a_refused_or_unreadable_connack_or_a_closed_connection_means_another_version() {
        use rumqttc::v5::{ConnectionError as E, StateError as S};
        assert!(
            Broken::v5(&E::ConnectionRefused(
                ConnectReturnCode::UnsupportedProtocolVersion
            ))
            .unsupported
        );
        assert!(Broken::v5(&E::MqttState(S::ConnectionAborted)).unsupported);
        assert!(!Broken::v5(&E::ConnectionRefused(ConnectReturnCode::NotAuthorized)).unsupported);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(
            !Broken::v5(&E::Io(refused)).unsupported,
            "a broker that is down is just down"
        );
    }

    #[test]
    fn error_reason_codes_fail_the_message_and_some_for_good() {
        assert!(puback(&PubAckReason::Success).is_ok());
        assert!(puback(&PubAckReason::NoMatchingSubscribers).is_ok());
        assert!(matches!(
            puback(&PubAckReason::NotAuthorized),
            Err(Failure::Refused { permanent: true, .. })
        ));
        assert!(matches!(
            puback(&PubAckReason::QuotaExceeded),
            Err(Failure::Refused { permanent: false, .. })
        ));
        assert!(pubrec(&PubRecReason::NoMatchingSubscribers).is_ok());
        assert!(matches!(
            pubrec(&PubRecReason::TopicNameInvalid),
            Err(Failure::Refused { permanent: true, .. })
        ));
    }
}
