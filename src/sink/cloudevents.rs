//! The optional CloudEvents 1.0 form of a message, for every sink: `id` = the outbox Id, `type`
//! = its type, `source` from the config, `time` = when it occurred. Binary mode puts the
//! attributes in protocol headers and the content in the body; structured mode sends one JSON
//! document (`application/cloudevents+json`).

use serde::{Deserialize, Serialize};

use super::{DeliveryError, Envelope};
use crate::model::Message;

pub const DEFAULT_SOURCE: &str = "outboxctl";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CloudEventsMode {
    Binary,
    Structured,
}

/// What a sink sends: the body, its content type, and attributes for headers (binary mode).
pub struct Encoded {
    pub body: Vec<u8>,
    pub content_type: &'static str,
    /// CloudEvents attributes without a prefix (`specversion`, `id`, …); empty unless binary.
    pub attributes: Vec<(&'static str, String)>,
}

/// Encodes a message as the sink sends it: the [`Envelope`] JSON by default, or CloudEvents.
/// Malformed content fails permanently.
pub fn encode(
    m: &Message,
    mode: Option<CloudEventsMode>,
    source: Option<&str>,
) -> Result<Encoded, DeliveryError> {
    let envelope = Envelope::of(m)?;
    let source = source.unwrap_or(DEFAULT_SOURCE);
    let time = envelope.occurred_on.clone();
    Ok(match mode {
        None => Encoded {
            body: serde_json::to_vec(&envelope).expect("an envelope serializes"),
            content_type: "application/json",
            attributes: Vec::new(),
        },
        Some(CloudEventsMode::Structured) => {
            let mut doc = serde_json::json!({
                "specversion": "1.0",
                "id": m.delivery_id(),
                "source": source,
                "type": m.event_type,
                "datacontenttype": "application/json",
                "data": envelope.content,
            });
            if let Some(t) = time {
                doc["time"] = t.into();
            }
            if m.delivery_id.is_some() {
                doc["outboxid"] = m.id.as_str().into();
            }
            // The distributed tracing extension.
            if let Some((parent, state)) = m.trace() {
                doc["traceparent"] = parent.into();
                if let Some(state) = state {
                    doc["tracestate"] = state.into();
                }
            }
            Encoded {
                body: serde_json::to_vec(&doc).expect("JSON serializes"),
                content_type: "application/cloudevents+json",
                attributes: Vec::new(),
            }
        }
        Some(CloudEventsMode::Binary) => {
            let mut attributes = vec![
                ("specversion", "1.0".to_owned()),
                ("id", m.delivery_id().to_owned()),
                ("source", source.to_owned()),
                ("type", m.event_type.clone()),
            ];
            if let Some(t) = time {
                attributes.push(("time", t));
            }
            if m.delivery_id.is_some() {
                attributes.push(("outboxid", m.id.clone()));
            }
            if let Some((parent, state)) = m.trace() {
                attributes.push(("traceparent", parent.to_owned()));
                if let Some(state) = state {
                    attributes.push(("tracestate", state.to_owned()));
                }
            }
            Encoded {
                body: serde_json::to_vec(&envelope.content).expect("JSON serializes"),
                content_type: "application/json",
                attributes,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message {
            occurred_on: crate::time::parse("2024-01-15 10:30:00"),
            ..Message::new("0190-abc", "UserRegistered", r#"{"email":"a@b.c"}"#)
        }
    }

    #[test]
    fn structured_carries_every_required_attribute() {
        let e = encode(&message(), Some(CloudEventsMode::Structured), Some("/shop")).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&e.body).unwrap();
        assert_eq!(v["specversion"], "1.0");
        assert_eq!(v["id"], "0190-abc");
        assert_eq!(v["type"], "UserRegistered");
        assert_eq!(v["source"], "/shop");
        assert_eq!(v["time"], "2024-01-15T10:30:00.000000Z");
        assert_eq!(v["data"]["email"], "a@b.c");
        assert_eq!(e.content_type, "application/cloudevents+json");
    }

    #[test]
    fn a_fresh_delivery_id_is_the_event_id_with_the_message_id_as_an_extension() {
        let mut m = message();
        m.delivery_id = Some("d-1".into());
        let doc: serde_json::Value =
            serde_json::from_slice(&encode(&m, Some(CloudEventsMode::Structured), None).unwrap().body)
                .unwrap();
        assert_eq!(
            (doc["id"].as_str(), doc["outboxid"].as_str()),
            (Some("d-1"), Some("0190-abc"))
        );
        let binary = encode(&m, Some(CloudEventsMode::Binary), None).unwrap();
        assert!(binary.attributes.contains(&("id", "d-1".to_owned())));
        assert!(binary.attributes.contains(&("outboxid", "0190-abc".to_owned())));
        let plain = encode(&message(), Some(CloudEventsMode::Binary), None).unwrap();
        assert!(!plain.attributes.iter().any(|(k, _)| *k == "outboxid"));
    }

    #[test]
    fn structured_and_binary_carry_the_trace_context_and_a_bad_one_is_left_out() {
        const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let mut m = message();
        m.trace_parent = Some(PARENT.into());
        m.trace_state = Some("v=1".into());
        let doc: serde_json::Value =
            serde_json::from_slice(&encode(&m, Some(CloudEventsMode::Structured), None).unwrap().body)
                .unwrap();
        assert_eq!(
            (doc["traceparent"].as_str(), doc["tracestate"].as_str()),
            (Some(PARENT), Some("v=1"))
        );
        let binary = encode(&m, Some(CloudEventsMode::Binary), None).unwrap();
        assert!(binary.attributes.contains(&("traceparent", PARENT.to_owned())));
        m.trace_parent = Some("garbage".into());
        let doc: serde_json::Value =
            serde_json::from_slice(&encode(&m, Some(CloudEventsMode::Structured), None).unwrap().body)
                .unwrap();
        assert!(
            doc.get("traceparent").is_none() && doc.get("tracestate").is_none(),
            "{doc}"
        );
        let plain: serde_json::Value = serde_json::from_slice(&encode(&m, None, None).unwrap().body).unwrap();
        assert!(plain.get("traceparent").is_none(), "{plain}");
    }

    #[test]
    fn binary_puts_the_content_alone_in_the_body() {
        let e = encode(&message(), Some(CloudEventsMode::Binary), None).unwrap();
        assert_eq!(e.body, br#"{"email":"a@b.c"}"#);
        assert!(e.attributes.contains(&("id", "0190-abc".to_owned())));
        assert!(e.attributes.contains(&("source", DEFAULT_SOURCE.to_owned())));
    }
}
