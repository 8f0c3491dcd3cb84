//! Keeps credentials out of logs, `Error` and `show`: URLs are shown without their password,
//! and error texts from client libraries are scrubbed of every secret the sink knows.

/// The URL with the password (or a lone token) of its user info replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    let shown = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => "***".to_owned(),
    };
    format!("{}{shown}{}", &url[..scheme_end], &rest[at..])
}

/// Replaces known secrets in text that may quote them (a client library's error message).
#[derive(Clone, Default)]
pub struct Redactor {
    /// (secret, replacement), longest first so a URL goes before the password inside it.
    secrets: Vec<(String, String)>,
}

impl Redactor {
    /// Knows the URL (shown redacted) and the parts of its user info, raw and percent-decoded.
    pub fn for_url(url: &str) -> Self {
        let mut r = Redactor::default();
        let redacted = redact_url(url);
        if redacted != url {
            r.add(url, &redacted);
            if let Some(userinfo) = userinfo(url) {
                let secret = userinfo.split_once(':').map_or(userinfo, |(_, p)| p);
                r.add(secret, "***");
                r.add(&percent_decode(secret), "***");
            }
        }
        r
    }

    pub fn add(&mut self, secret: &str, replacement: &str) {
        // Very short secrets would turn ordinary words into asterisks; they are not worth it.
        if secret.len() >= 3 {
            self.secrets.push((secret.to_owned(), replacement.to_owned()));
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        }
    }

    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (secret, replacement) in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), replacement);
            }
        }
        out
    }
}

fn userinfo(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest[..authority_end].rfind('@').map(|at| &rest[..at])
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact_url("amqp://guest:s3cret@host:5672/%2f"),
            "amqp://guest:***@host:5672/%2f"
        );
        assert_eq!(redact_url("nats://tok3n@host:4222"), "nats://***@host:4222");
        assert_eq!(redact_url("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
        assert_eq!(redact_url("http://h/p?a=b@c"), "http://h/p?a=b@c");
    }

    #[test]
    fn errors_are_scrubbed() {
        let r = Redactor::for_url("redis://u:p%40ss@h:1/0");
        assert_eq!(
            r.scrub("cannot reach redis://u:p%40ss@h:1/0 as u with p@ss"),
            "cannot reach redis://u:***@h:1/0 as u with ***"
        );
    }
}
