//! Sinks that need no configuration.

use serde::Deserialize;

use super::{DeliveryError, Envelope, Pending, Sink};
use crate::model::Message;

/// The sample handler: logs what it would do. For UserRegistered, the welcome email.
pub struct LogSink;

#[derive(Deserialize)]
struct UserRegistered {
    email: String,
    #[serde(default)]
    name: Option<String>,
}

impl Sink for LogSink {
    fn send(&mut self, run: &[Message]) -> Pending {
        Pending::ready(run.iter().map(LogSink::deliver).collect())
    }
}

impl LogSink {
    fn deliver(m: &Message) -> Result<(), DeliveryError> {
        let envelope = Envelope::of(m)?;
        if m.event_type == "UserRegistered" {
            let user: UserRegistered = serde_json::from_str(envelope.content.get())
                .map_err(|e| DeliveryError::Permanent(format!("malformed UserRegistered content: {e}")))?;
            let greeting = user.name.as_deref().unwrap_or("there");
            tracing::info!(id = %m.id, "sending welcome email to {} (\"Welcome, {greeting}!\")", user.email);
        } else {
            // One line whatever the stored layout: compact JSON.
            let content: serde_json::Value =
                serde_json::from_str(envelope.content.get()).map_err(DeliveryError::malformed)?;
            tracing::info!(id = %m.id, r#type = %m.event_type, %content, "event");
        }
        Ok(())
    }
}

/// Accepts every well-formed message; for event types nobody needs, and for benchmarks.
pub struct NoopSink;

impl Sink for NoopSink {
    fn send(&mut self, run: &[Message]) -> Pending {
        Pending::ready(run.iter().map(NoopSink::deliver).collect())
    }
}

impl NoopSink {
    fn deliver(m: &Message) -> Result<(), DeliveryError> {
        // Malformed content fails here as with every other sink, so `noop` never hides a bad row.
        serde_json::from_str::<serde::de::IgnoredAny>(&m.content)
            .map(drop)
            .map_err(|e| DeliveryError::malformed(format_args!("not valid JSON ({e})")))
    }
}
