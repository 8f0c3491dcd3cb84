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

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::cloudevents::{self, CloudEventsMode};
use super::settings::HttpSettings;
use super::{DeliveryError, Sink};
use crate::model::Message;
use crate::redact::{Redactor, redact_url};

/// How much of an error response's body is kept in `Error`.
const BODY_EXCERPT: usize = 512;

/// The key of a `whsec_…` secret (the prefix is optional, as in the reference libraries).
pub fn signing_key(secret: &str) -> Result<Vec<u8>, String> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    match BASE64.decode(b64) {
        Ok(key) if !key.is_empty() => Ok(key),
        // Never quote the secret: only say what form it must have.
        _ => Err(
            "the webhook secret must be whsec_ followed by base64 (as Standard Webhooks issues them)".into(),
        ),
    }
}

/// `v1,<base64 signature>` of one delivery.
pub fn sign(key: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

pub struct HttpSink {
    agent: ureq::Agent,
    url: String,
    shown_url: String,
    key: Option<Vec<u8>>,
    headers: Vec<(String, String)>,
    cloudevents: Option<CloudEventsMode>,
    source: Option<String>,
    redactor: Redactor,
}

impl HttpSink {
    pub fn new(s: &HttpSettings) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(s.timeout()))
            // Statuses are classified here, and a redirected POST is not what the sender asked for.
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("outboxctl/", env!("CARGO_PKG_VERSION")))
            .build();
        let url = s.resolved_url.0.clone();
        let mut redactor = Redactor::for_url(&url);
        let key = s.secret.as_ref().map(|secret| {
            redactor.add(&secret.0, "***");
            signing_key(&secret.0).expect("checked by resolve")
        });
        HttpSink {
            agent: config.into(),
            shown_url: redact_url(&url),
            url,
            key,
            headers: s.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            cloudevents: s.cloudevents,
            source: s.source.clone(),
            redactor,
        }
    }
}

impl Sink for HttpSink {
    fn deliver(&mut self, m: &Message) -> Result<(), DeliveryError> {
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
            request = request.header("webhook-signature", sign(key, &m.id, timestamp, &encoded.body));
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
                return Err(DeliveryError::retryable(
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
        if status == 408 || status == 429 || status >= 500 {
            let mut err = DeliveryError::retryable(message);
            err.retry_after = retry_after;
            Err(err)
        } else {
            Err(DeliveryError::permanent(message))
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

    /// The example of the Standard Webhooks specification's reference test suite.
    #[test]
    fn signature_matches_the_specification_example() {
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn bad_secrets_are_refused_without_being_quoted() {
        let err = signing_key("whsec_not base64!").unwrap_err();
        assert!(!err.contains("not base64!"));
    }

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
