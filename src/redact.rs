//! URLs and secrets: the one home for percent-decoding, showing a URL without its credentials,
//! and keeping every secret the config holds out of errors, `show` and log lines (the client
//! libraries' included). A leaf: it knows nothing of the config, stores or sinks.

use std::sync::{PoisonError, RwLock};

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use url::Url;

/// What a secret is shown as.
pub const MASK: &str = "***";

/// Shorter secrets are not replaced: masking every `ab` in a text would hide more than it protects.
const MIN_SECRET_LEN: usize = 3;

/// What the URL standard percent-encodes in a user name or password, so that a password is also
/// recognized the way a URL library prints it.
const USERINFO: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b':')
    .add(b';')
    .add(b'=')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'|');

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - _ . ~`).
const COMPONENT: &AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a value for one path segment or query parameter.
pub fn percent_encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// `%XX` sequences decoded. Malformed ones stay as written; bytes that are not UTF-8 become U+FFFD.
pub fn percent_decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The URL as it may be shown in logs, errors and output: the password of `user:PASSWORD@host`,
/// a lone token (`nats://TOKEN@host`) and a `password=` query parameter are masked. The user name
/// stays, and so does a lone user info where the scheme makes it a user name (PostgreSQL, AMQP,
/// Redis). Text that is no URL with credentials (a file path) comes back unchanged.
pub fn redact_url(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => redact_parsed(url).unwrap_or_else(|| text.to_owned()),
        // A malformed URL (a bad port, say) is masked too: it is quoted in the error about it.
        Err(_) => redact_text(text),
    }
}

fn redact_parsed(mut url: Url) -> Option<String> {
    let mut changed = false;
    if url.password().is_some() {
        changed |= url.set_password(Some(MASK)).is_ok();
    } else if !url.username().is_empty() && !lone_userinfo_is_user(url.scheme()) {
        changed |= url.set_username(MASK).is_ok();
    }
    if let Some(query) = url.query().and_then(mask_password_param) {
        url.set_query(Some(&query));
        changed = true;
    }
    changed.then(|| url.to_string())
}

fn redact_text(text: &str) -> String {
    let mut out = text.to_owned();
    if let Some((scheme, start, at)) = userinfo_span(text) {
        match text[start..at].find(':') {
            Some(colon) => out.replace_range(start + colon + 1..at, MASK),
            None if !lone_userinfo_is_user(scheme) => out.replace_range(start..at, MASK),
            None => {}
        }
    }
    if let Some(q) = out.find('?')
        && let Some(masked) = mask_password_param(&out[q + 1..])
    {
        out.replace_range(q + 1.., &masked);
    }
    out
}

/// Whether `scheme://NAME@host` names a user (who then needs no masking) rather than a token.
fn lone_userinfo_is_user(scheme: &str) -> bool {
    [
        "postgres",
        "postgresql",
        "amqp",
        "amqps",
        "redis",
        "rediss",
        "mqtt",
    ]
    .iter()
    .any(|s| scheme.eq_ignore_ascii_case(s))
}

/// Where the user info sits in a URL's text: the scheme, and the user info's start and end
/// (the last `@` before the path).
fn userinfo_span(text: &str) -> Option<(&str, usize, usize)> {
    let scheme_end = text.find("://")?;
    let start = scheme_end + 3;
    let authority_end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    let at = start + text[start..authority_end].rfind('@')?;
    Some((&text[..scheme_end], start, at))
}

/// A query string with the value of its `password=` parameter masked; None when it has none.
fn mask_password_param(query: &str) -> Option<String> {
    let is_password = |pair: &str| {
        pair.split_once('=')
            .is_some_and(|(k, _)| k.eq_ignore_ascii_case("password"))
    };
    if !query.split('&').any(is_password) {
        return None;
    }
    let masked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_password(pair) => format!("{k}={MASK}"),
            _ => pair.to_owned(),
        })
        .collect();
    Some(masked.join("&"))
}

/// The credentials in a URL's text, as written: what [`redact_url`] masks.
fn credentials(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    if let Some((scheme, start, at)) = userinfo_span(text) {
        match text[start..at].split_once(':') {
            Some((_, password)) => found.push(password),
            None if !lone_userinfo_is_user(scheme) => found.push(&text[start..at]),
            None => {}
        }
    }
    if let Some((_, query)) = text.split_once('?') {
        let query = query.split('#').next().unwrap_or_default();
        found.extend(
            query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .filter(|(k, _)| k.eq_ignore_ascii_case("password"))
                .map(|(_, v)| v),
        );
    }
    found
}

/// Replaces known secrets in text that may quote them: a client library's error message, a log
/// line. Knows each secret as written, percent-decoded and percent-encoded.
#[derive(Clone, Default)]
pub struct Redactor {
    /// (pattern, replacement), longest first.
    patterns: Vec<(String, String)>,
}

impl Redactor {
    /// Knows the URL (shown redacted) and its credentials.
    pub fn for_url(url: &str) -> Self {
        let mut r = Redactor::default();
        r.add_url(url);
        r
    }

    /// Adds a URL, replaced by its redacted form, and its password, token or `password=` value.
    pub fn add_url(&mut self, url: &str) {
        let shown = redact_url(url);
        if shown == url {
            return;
        }
        self.add(url, &shown);
        // The shown URL is left as it is, so a user name that equals the password stays readable.
        self.add(&shown, &shown);
        for secret in credentials(url) {
            self.add_secret(secret);
        }
    }

    /// Adds a secret (a password, a token), in every form a library may print it.
    /// The values of headers or environment variables whose names look like credentials
    /// (`Authorization`, `API_TOKEN`, …); for `Bearer TOKEN`, the token alone too.
    pub fn add_named_values<'a>(&mut self, values: impl IntoIterator<Item = (&'a String, &'a String)>) {
        for (_, value) in values.into_iter().filter(|(name, _)| looks_secret(name)) {
            self.add_secret(value);
            if let Some((_, credential)) = value.split_once(' ') {
                self.add_secret(credential.trim());
            }
        }
    }

    pub fn add_secret(&mut self, secret: &str) {
        let decoded = percent_decode(secret);
        let encoded = utf8_percent_encode(&decoded, USERINFO).to_string();
        for form in [secret, &decoded, &encoded] {
            self.add(form, MASK);
        }
    }

    /// Replaces `pattern` with `replacement` wherever it appears.
    pub fn add(&mut self, pattern: &str, replacement: &str) {
        if pattern.len() < MIN_SECRET_LEN || self.patterns.iter().any(|(p, _)| p == pattern) {
            return;
        }
        self.patterns.push((pattern.to_owned(), replacement.to_owned()));
        self.patterns.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    }

    /// Knows everything `other` knows too.
    pub fn extend(&mut self, other: &Redactor) {
        for (pattern, replacement) in &other.patterns {
            self.add(pattern, replacement);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The text with every known secret replaced, in one pass from left to right: at each place
    /// the longest pattern wins, and what a replacement wrote is never looked at again.
    pub fn scrub(&self, text: &str) -> String {
        if !self.patterns.iter().any(|(p, _)| text.contains(p.as_str())) {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            match self.patterns.iter().find(|(p, _)| rest.starts_with(p.as_str())) {
                Some((pattern, replacement)) => {
                    out.push_str(replacement);
                    rest = &rest[pattern.len()..];
                }
                None => {
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        out
    }
}

/// The secrets no log line may show. Logging is process-wide, and so is this.
static LOG_SECRETS: RwLock<Redactor> = RwLock::new(Redactor { patterns: Vec::new() });

/// Keeps these secrets out of every log line from now on, whichever crate logs it (the binary's
/// log writer passes each line through [`scrub_log`]). Loading a config calls this.
pub fn hide_in_logs(secrets: &Redactor) {
    LOG_SECRETS
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .extend(secrets);
}

/// A log line without the secrets given to [`hide_in_logs`].
pub fn scrub_log(line: &str) -> String {
    LOG_SECRETS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .scrub(line)
}

/// Whether a header or variable name suggests that its value is a credential.
fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["auth", "token", "secret", "pass", "key", "cookie", "credential"]
        .iter()
        .any(|word| name.contains(word))
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
        assert_eq!(
            redact_url("https://tok3n@hooks.example.com/in"),
            "https://***@hooks.example.com/in"
        );
    }

    #[test]
    fn passwords_are_masked_wherever_a_database_url_carries_them() {
        assert_eq!(
            redact_url("postgres://app:s3cr%40t@db:5432/shop?sslmode=require"),
            "postgres://app:***@db:5432/shop?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://db/shop?user=app&password=hunter2"),
            "postgresql://db/shop?user=app&password=***"
        );
        assert_eq!(redact_url("postgres://app@db/shop"), "postgres://app@db/shop");
        assert_eq!(redact_url("outbox.db"), "outbox.db");
        assert_eq!(redact_url("/var/lib/out@box.db"), "/var/lib/out@box.db");
    }

    #[test]
    fn a_malformed_url_is_masked_too() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db:99999/shop?password=x2y"),
            "postgres://app:***@db:99999/shop?password=***"
        );
        assert_eq!(redact_url("nats://tok3n@[::1"), "nats://***@[::1");
    }

    #[test]
    fn only_the_password_is_masked_when_the_user_name_equals_it() {
        let url = "amqp://guest:guest@127.0.0.1:5672/%2f";
        let shown = redact_url(url);
        assert_eq!(shown, "amqp://guest:***@127.0.0.1:5672/%2f");
        let r = Redactor::for_url(url);
        assert_eq!(
            r.scrub(&format!("RabbitMQ ({shown}): refused")),
            format!("RabbitMQ ({shown}): refused")
        );
        assert_eq!(
            r.scrub(&format!("connecting to {url}")),
            format!("connecting to {shown}")
        );
        // Elsewhere the string is the password, and masked.
        assert_eq!(r.scrub("password \"guest\""), "password \"***\"");
    }

    #[test]
    fn errors_are_scrubbed() {
        let r = Redactor::for_url("redis://u:p%40ss@h:1/0");
        assert_eq!(
            r.scrub("cannot reach redis://u:p%40ss@h:1/0 as u with p@ss"),
            "cannot reach redis://u:***@h:1/0 as u with ***"
        );
    }

    #[test]
    fn secrets_are_known_as_written_decoded_and_encoded() {
        let r = Redactor::for_url("nats://alice:pa%22ss%2Fw@h:4222");
        assert_eq!(
            r.scrub(r#"password: Some("pa%22ss%2Fw")"#),
            r#"password: Some("***")"#
        );
        assert_eq!(r.scrub(r#"pass: "pa"ss/w""#), r#"pass: "***""#);
        // A URL library encodes what the user wrote raw.
        let r = Redactor::for_url("nats://alice:pa\"ss@h:4222");
        assert_eq!(r.scrub("password: pa%22ss"), "password: ***");
        let r = Redactor::for_url("postgres://db/shop?password=hun%20ter");
        assert_eq!(r.scrub("hun ter, hun%20ter"), "***, ***");
    }

    #[test]
    fn a_lone_token_is_a_secret_but_a_lone_user_name_is_not() {
        let r = Redactor::for_url("nats://s3cret-token@h:4222");
        assert_eq!(r.scrub(r#"username: "s3cret-token""#), r#"username: "***""#);
        let r = Redactor::for_url("postgres://postgres@h/db");
        assert!(r.is_empty());
    }

    #[test]
    fn short_secrets_are_left_alone() {
        let mut r = Redactor::default();
        r.add_secret("ab");
        assert_eq!(r.scrub("table ab"), "table ab");
    }

    #[test]
    fn percent_decoding_keeps_what_is_malformed() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("a%2Fb%41"), "a/bA");
        assert_eq!(percent_decode("x+y"), "x+y");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }
}
