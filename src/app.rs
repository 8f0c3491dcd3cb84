//! The application side of the pattern: aggregates record domain events, and saving a unit of
//! work writes the business rows and the recorded events as outbox messages in ONE transaction.
//! This is the original design's EF Core interceptor, done explicitly.
//!
//! ```no_run
//! use outboxctl::app::{Aggregate, DomainEvent, Events, UnitOfWork};
//! # use outboxctl::store::{self, StoreOptions};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! #[derive(serde::Serialize)]
//! struct OrderPlaced { order_id: u64 }
//! impl DomainEvent for OrderPlaced { const TYPE: &'static str = "OrderPlaced"; }
//!
//! struct Order { id: u64, events: Events }
//! impl Aggregate for Order { fn events(&mut self) -> &mut Events { &mut self.events } }
//!
//! # let mut store = store::open("shop.db", &StoreOptions { table: "OutboxMessage".into(), busy_timeout: std::time::Duration::from_secs(5) })?;
//! let mut order = Order { id: 7, events: Events::default() };
//! order.events.record(OrderPlaced { order_id: order.id })?;
//! let mut uow = UnitOfWork::begin(store.as_mut())?;
//! uow.execute("INSERT INTO Orders (Id) VALUES ($1)", &[(order.id as i64).into()])?;
//! uow.save(&mut order);
//! uow.commit()?; // the Orders row and the OrderPlaced message, or neither
//! # Ok(()) }
//! ```

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::StoreError;
use crate::model::NewMessage;
use crate::store::{SqlValue, Store, Transaction};

/// An event with a stable type name, stored as the message's `Type`.
pub trait DomainEvent: Serialize {
    const TYPE: &'static str;

    /// The ordering key (usually the aggregate's id): events with the same key are delivered one
    /// at a time, in the order they occurred. None: no order beyond oldest first.
    fn ordering_key(&self) -> Option<String> {
        None
    }
}

/// Events an aggregate has recorded and not yet saved.
#[derive(Debug, Default)]
pub struct Events(Vec<NewMessage>);

impl Events {
    /// Records an event now; it is written when the aggregate is saved.
    pub fn record<E: DomainEvent>(&mut self, event: E) -> Result<(), serde_json::Error> {
        self.record_at(event, Utc::now())
    }

    pub fn record_at<E: DomainEvent>(
        &mut self,
        event: E,
        at: DateTime<Utc>,
    ) -> Result<(), serde_json::Error> {
        let content = serde_json::to_string(&event)?;
        let mut message = NewMessage::new(E::TYPE, content, at);
        message.key = event.ordering_key();
        self.0.push(message);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn take(&mut self) -> Vec<NewMessage> {
        std::mem::take(&mut self.0)
    }
}

/// Anything that records domain events.
pub trait Aggregate {
    fn events(&mut self) -> &mut Events;
}

/// A transaction for business rows plus the events of the aggregates saved in it.
pub struct UnitOfWork<'s> {
    tx: Box<dyn Transaction + 's>,
    pending: Vec<NewMessage>,
    trace: Option<(String, Option<String>)>,
}

impl<'s> UnitOfWork<'s> {
    pub fn begin(store: &'s mut dyn Store) -> Result<Self, StoreError> {
        Ok(UnitOfWork {
            tx: store.begin()?,
            pending: Vec::new(),
            trace: None,
        })
    }

    /// Writes business rows. Parameters are `$1, $2, …` on every backend.
    pub fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
        self.tx.execute(sql, params)
    }

    /// Takes the aggregate's recorded events into this unit of work.
    pub fn save(&mut self, aggregate: &mut dyn Aggregate) {
        self.pending.extend(aggregate.events().take());
    }

    /// Adds a message that belongs to no aggregate.
    pub fn add(&mut self, message: NewMessage) {
        self.pending.push(message);
    }

    /// Gives every event of this unit of work the caller's W3C Trace Context (the incoming
    /// request's `traceparent` and `tracestate`), unless an event has its own. An invalid
    /// `traceparent` is ignored: the events go out without a trace rather than with a broken one.
    pub fn trace(&mut self, traceparent: &str, tracestate: Option<&str>) {
        self.trace = Some((traceparent.to_owned(), tracestate.map(str::to_owned)));
    }

    /// Writes the events as outbox messages and commits everything. On error nothing is kept.
    pub fn commit(mut self) -> Result<Vec<NewMessage>, StoreError> {
        if let Some((parent, state)) = &self.trace {
            for m in self.pending.iter_mut().filter(|m| m.trace_parent.is_none()) {
                m.set_trace(Some(parent), state.as_deref());
            }
        }
        self.tx.insert_messages(&self.pending)?;
        self.tx.commit()?;
        Ok(self.pending)
    }
}

/// Why an event given as text cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("invalid event type {0:?}: give a name like OrderPlaced")]
    Type(String),
    #[error("not valid JSON ({0})")]
    Content(serde_json::Error),
}

/// A type name is plain text: not empty, no surrounding spaces, no control characters.
pub fn check_event_type(event_type: &str) -> Result<&str, EventError> {
    let ty = event_type.trim();
    if ty.is_empty() || ty != event_type || ty.chars().any(char::is_control) {
        return Err(EventError::Type(event_type.to_owned()));
    }
    Ok(ty)
}

/// A message for an event given as text (`emit event`): a plain type name and JSON content,
/// checked before anything is written. Surrounding whitespace of the content is dropped.
pub fn event_message(event_type: &str, content: &str, at: DateTime<Utc>) -> Result<NewMessage, EventError> {
    let ty = check_event_type(event_type)?;
    let content = content.trim();
    serde_json::from_str::<serde_json::Value>(content).map_err(EventError::Content)?;
    Ok(NewMessage::new(ty, content.to_owned(), at))
}

/// Writes messages that belong to no aggregate, in one transaction.
pub fn write_messages(
    store: &mut dyn Store,
    messages: Vec<NewMessage>,
) -> Result<Vec<NewMessage>, StoreError> {
    let mut uow = UnitOfWork::begin(store)?;
    for m in messages {
        uow.add(m);
    }
    uow.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The caller's trace context reaches every event of the unit of work that has none of its
    /// own; an invalid one is dropped rather than stored.
    #[test]
    fn a_unit_of_work_gives_its_events_the_caller_s_trace() {
        const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        const OWN: &str = "00-11111111111111111111111111111111-2222222222222222-01";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.db");
        let options = crate::store::StoreOptions {
            table: "OutboxMessage".into(),
            busy_timeout: std::time::Duration::from_secs(1),
        };
        let mut store = crate::store::open(path.to_str().unwrap(), &options).unwrap();
        let now = Utc::now();
        let mut uow = UnitOfWork::begin(store.as_mut()).unwrap();
        uow.trace(PARENT, Some("vendor=1"));
        uow.add(NewMessage::new("A", "{}".into(), now));
        uow.add(NewMessage::new("B", "{}".into(), now).traced(Some(OWN), None));
        let written = uow.commit().unwrap();
        assert_eq!(written[0].trace_parent.as_deref(), Some(PARENT));
        assert_eq!(written[0].trace_state.as_deref(), Some("vendor=1"));
        assert_eq!(written[1].trace_parent.as_deref(), Some(OWN), "its own wins");
        let got = store.get(&written[0].id).unwrap().unwrap().message;
        assert_eq!(got.trace(), Some((PARENT, Some("vendor=1"))));

        let mut uow = UnitOfWork::begin(store.as_mut()).unwrap();
        uow.trace("garbage", Some("vendor=1"));
        uow.add(NewMessage::new("C", "{}".into(), now));
        let written = uow.commit().unwrap();
        assert_eq!(
            (
                written[0].trace_parent.as_deref(),
                written[0].trace_state.as_deref()
            ),
            (None, None)
        );
    }
}
