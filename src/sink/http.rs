//! Webhooks: a POST of the message as JSON, signed the Standard Webhooks way
//! (<https://www.standardwebhooks.com/>): `webhook-id` is the outbox Id (the same on every
//! retry, so receivers can deduplicate), `webhook-timestamp` the Unix time of the attempt and
//! `webhook-signature` `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
//!
//! 2xx = delivered. 408, 429, 5xx and network errors = retry (honouring `Retry-After`).
//! Other answers = permanent: the message goes dead with the status and a bounded excerpt of
//! the body in `Error`.

use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::cloudevents::{self, CloudEventsMode};
use super::settings::ResolvedHttp;
use super::signing::SigningKey;
use super::{DeliveryError, Pending, Sink};
use crate::model::Message;
use crate::redact::{Redactor, redact_url};

/// How much of an error response's body is kept in `Error`.
const BODY_EXCERPT: usize = 512;

pub struct HttpSink {
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
            .user_agent(concat!("outboxctl/", env!("CARGO_PKG_VERSION")))
            .build();
        let url = s.url.0.clone();
        let mut redactor = Redactor::for_url(&url);
        if let Some(secret) = &s.secret {
            redactor.add(&secret.0, "***");
        }
        HttpSink {
            agent: config.into(),
            shown_url: redact_url(&url),
            url,
            key: s.key.clone(),
            headers: s.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            cloudevents: s.cloudevents,
            source: s.source.clone(),
            redactor,
        }
    }

    fn post(&self, m: &Message) -> Result<(), DeliveryError> {
        let encoded = cloudevents::encode(m, self.cloudevents, self.source.as_deref())?;
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut request = self
            .agent
            .post(&self.url)
            .header("content-type", encoded.content_type)
            .header("webhook-id", &m.id)
            .header("webhook-timestamp", timestamp.to_string());
        if let Some(key) = &self.key {
            request = request.header("webhook-signature", key.sign(&m.id, timestamp, &encoded.body));
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
    /// One request at a time: the relay sends runs of one.
    fn send(&mut self, run: &[Message]) -> Pending {
        Pending::ready(run.iter().map(|m| self.post(m)).collect())
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
