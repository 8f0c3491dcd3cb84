//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): the key comes from a
//! `whsec_…` secret, decoded once when the config is loaded; each delivery is signed with it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A decoded webhook secret, ready to sign with.
#[derive(Clone)]
pub struct SigningKey(Hmac<Sha256>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

impl SigningKey {
    /// The key of a `whsec_…` secret (the prefix is optional, as in the reference libraries).
    pub fn from_secret(secret: &str) -> Result<Self, String> {
        let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
        BASE64
            .decode(b64)
            .ok()
            .filter(|key| !key.is_empty())
            .and_then(|key| Hmac::new_from_slice(&key).ok())
            .map(SigningKey)
            // Never quote the secret: only say what form it must have.
            .ok_or_else(|| {
                "the webhook secret must be whsec_ followed by base64 (as Standard Webhooks issues them)"
                    .into()
            })
    }

    /// `v1,<base64 signature>` of one delivery: HMAC-SHA256 of `{id}.{timestamp}.{body}`.
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let mut mac = self.0.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference test suite.
    #[test]
    fn signature_matches_the_specification_example() {
        let key = SigningKey::from_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            key.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn bad_secrets_are_refused_without_being_quoted() {
        let err = SigningKey::from_secret("whsec_not base64!").unwrap_err();
        assert!(!err.contains("not base64!"));
        assert!(SigningKey::from_secret("whsec_").is_err());
    }
}
