//! The small synchronous HTTP servers: the dashboard and the `/metrics` endpoint of `run`.
//! tiny_http, one thread each, no async runtime.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::Error;

pub mod dashboard;
pub mod metrics;

/// Request bodies past this are refused: the dashboard's forms are a few short fields.
const MAX_BODY: u64 = 64 * 1024;

pub fn bind(addr: SocketAddr) -> Result<tiny_http::Server, Error> {
    tiny_http::Server::http(addr).map_err(|e| Error::usage(format!("cannot listen on {addr}: {e}")))
}

/// A request as the handlers see it: parsed, body read, no I/O left.
#[derive(Debug, Default)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        lookup(&self.query, name)
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        lookup(&self.form, name)
    }
}

fn lookup<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// A response before it goes on the wire.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn new(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Resp {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Resp::new(status, "text/plain; charset=utf-8", body)
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Serves requests one at a time until `stop` is set.
pub fn serve(server: &tiny_http::Server, stop: &AtomicBool, mut handle: impl FnMut(&Req) -> Resp) {
    while !stop.load(Ordering::Relaxed) {
        let mut request = match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!("http: {e}");
                continue;
            }
        };
        let resp = match parse(&mut request) {
            Ok(req) => handle(&req),
            Err(resp) => resp,
        };
        let mut out = tiny_http::Response::from_string(resp.body).with_status_code(resp.status);
        for (name, value) in &resp.headers {
            if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                out.add_header(h);
            }
        }
        if let Err(e) = request.respond(out) {
            tracing::debug!("http: writing a response: {e}");
        }
    }
}

fn parse(request: &mut tiny_http::Request) -> Result<Req, Resp> {
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_owned(),
            )
        })
        .collect();
    let mut body = String::new();
    if request.body_length().is_some_and(|n| n as u64 > MAX_BODY) {
        return Err(Resp::text(413, "request body too large\n"));
    }
    request
        .as_reader()
        .take(MAX_BODY)
        .read_to_string(&mut body)
        .map_err(|_| Resp::text(400, "request body is not UTF-8 text\n"))?;
    let is_form = headers
        .iter()
        .any(|(n, v)| n == "content-type" && v.starts_with("application/x-www-form-urlencoded"));
    Ok(Req {
        method: request.method().as_str().to_owned(),
        path: crate::redact::percent_decode(path),
        query: parse_pairs(query),
        headers,
        form: if is_form { parse_pairs(&body) } else { Vec::new() },
    })
}

/// `a=1&b=x+y` as sent by forms and in query strings.
pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

/// Percent-encodes everything but unreserved characters: for ids and types placed in URLs.
pub fn percent_encode(s: &str) -> String {
    crate::redact::percent_encode_component(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_forms() {
        assert_eq!(
            parse_pairs("a=x+y&b=%3Cs%3E&c"),
            vec![
                ("a".into(), "x y".into()),
                ("b".into(), "<s>".into()),
                ("c".into(), String::new())
            ]
        );
        assert_eq!(percent_encode("a b/<"), "a%20b%2F%3C");
    }
}
