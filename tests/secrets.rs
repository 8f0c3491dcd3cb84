//! Secrets and message bodies stay out of everything outboxctl prints, its client libraries' log
//! lines included: every network sink and a PostgreSQL database URL at `-vv` with a canary
//! password, against a reachable server and a closed port; an unroutable RabbitMQ message's body
//! and a refused RabbitMQ login at the default level. Real servers: RabbitMQ 127.0.0.1:5672
//! (guest/guest), Redis 6379, PostgreSQL 5432, tansu (Kafka) 9092; NATS servers of their own
//! (`nats-server`).
#![allow(dead_code, unused_imports)]

#[path = "cli/common.rs"]
mod cli;
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cli::{Output, TestEnv, wait_until};

/// The password (or token) every test hides; none may print it, in any form.
const CANARY: &str = "CANARY-s3cret-9f2";

/// A message body that logs may not show unless asked for.
const BODY: &str = "{\"card\":\"PAYLOAD-4111-canary\"}";

/// Whether text shows the canary body: as text, or as the bytes a `Vec<u8>` debug-prints.
fn shows_body(text: &str) -> bool {
    let bytes: Vec<String> = "PAYLOAD-4111-canary".bytes().map(|b| b.to_string()).collect();
    text.contains("PAYLOAD-4111-canary") || text.contains(&bytes.join(", "))
}

fn run<S: AsRef<std::ffi::OsStr>>(env: &TestEnv, args: &[S]) -> Output {
    let mut c = env.cmd();
    c.args(args);
    env.output(c)
}

/// The logs (stderr) of emitting a message, delivering it and showing it, at `-vv` (debug logs
/// from every crate); and whether `show` printed the body (stdout, where it belongs). Delivery
/// may fail: secrets and the body must stay out of the logs either way.
fn logs_at_debug(env: &TestEnv, global: &[&str]) -> String {
    let with = |args: &[&str]| -> Vec<String> {
        let all = global.iter().chain(&["-vv"]).chain(args);
        all.map(|a| a.to_string()).collect()
    };
    let emitted = run(
        env,
        &with(&["--format", "json", "emit", "event", "OrderPlaced", BODY]),
    );
    assert_eq!(emitted.code, 0, "{emitted:#?}");
    let id = emitted.json()["emitted"][0]["id"].as_str().unwrap().to_owned();
    let mut logs = emitted.stderr;
    for args in [&["process-once"][..], &["list"], &["show", &id]] {
        let o = run(env, &with(args));
        assert!(!o.stdout.contains(CANARY), "{args:?}: {o:#?}");
        logs.push_str(&o.stderr);
    }
    logs
}

fn assert_hidden(logs: &str, what: &str) {
    assert!(
        !logs.contains(CANARY),
        "{what}: the canary secret was logged:\n{logs}"
    );
    assert!(!shows_body(logs), "{what}: the message body was logged:\n{logs}");
    assert!(logs.contains(" DEBUG "), "{what}: expected debug logs:\n{logs}");
}

/// A port nothing listens on right now, below the kernel's ephemeral range.
fn free_port() -> u16 {
    loop {
        let port = 20_000 + (uuid::Uuid::new_v4().as_u128() % 12_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

fn route_all_to(sink: &str) -> String {
    format!("[sinks.s]\n{sink}\ntimeout = \"3s\"\n[routes]\n\"*\" = \"s\"\n")
}

#[cfg(feature = "http")]
mod http {
    use super::*;

    /// Answers every request 200, after reading it.
    fn receiver() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let _ =
                    (&stream).write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            }
        });
        port
    }

    fn config(port: u16) -> String {
        route_all_to(&format!(
            "kind = \"http\"\nurl = \"http://alice:{CANARY}@127.0.0.1:{port}/hook\"\n\
             headers = {{ Authorization = \"Bearer {CANARY}\" }}"
        ))
    }

    #[test]
    fn a_webhook_password_and_token_stay_hidden() {
        let env = TestEnv::new();
        env.config(&config(receiver()));
        assert_hidden(&logs_at_debug(&env, &[]), "reachable webhook");
        env.config(&config(free_port()));
        assert_hidden(&logs_at_debug(&env, &[]), "closed port");
    }
}

#[cfg(feature = "nats")]
mod nats {
    use super::*;

    /// A NATS server of its own, asking for these credentials; stopped when dropped.
    struct NatsServer {
        child: Child,
        port: u16,
    }

    impl NatsServer {
        fn start(auth: &[&str]) -> Self {
            let port = free_port();
            let bin = ["/usr/sbin/nats-server", "/usr/local/bin/nats-server"]
                .into_iter()
                .find(|p| std::path::Path::new(p).exists())
                .unwrap_or("nats-server");
            let child = Command::new(bin)
                .args(["-a", "127.0.0.1", "-p", &port.to_string()])
                .args(auth)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start nats-server");
            wait_until("nats-server listens", Duration::from_secs(10), || {
                TcpStream::connect(("127.0.0.1", port)).is_ok()
            });
            NatsServer { child, port }
        }
    }

    impl Drop for NatsServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn config(url: &str) -> String {
        route_all_to(&format!(
            "kind = \"nats\"\nurl = \"{url}\"\nsubject = \"{}.x\"",
            unique("secrets")
        ))
    }

    fn assert_client_logged_the_server(printed: &str) {
        // The client's own debug line, with the address scrubbed rather than left out.
        assert!(printed.contains("attempting connection"), "{printed}");
        assert!(printed.contains("***"), "{printed}");
    }

    #[test]
    fn a_nats_password_stays_hidden() {
        let server = NatsServer::start(&["--user", "alice", "--pass", CANARY]);
        let env = TestEnv::new();
        for port in [server.port, free_port()] {
            env.config(&config(&format!("nats://alice:{CANARY}@127.0.0.1:{port}")));
            let printed = logs_at_debug(&env, &[]);
            assert_hidden(&printed, &format!("NATS with a password on port {port}"));
            assert_client_logged_the_server(&printed);
        }
    }

    #[test]
    fn a_nats_token_stays_hidden() {
        let server = NatsServer::start(&["--auth", CANARY]);
        let env = TestEnv::new();
        for port in [server.port, free_port()] {
            env.config(&config(&format!("nats://{CANARY}@127.0.0.1:{port}")));
            let printed = logs_at_debug(&env, &[]);
            assert_hidden(&printed, &format!("NATS with a token on port {port}"));
            assert_client_logged_the_server(&printed);
        }
    }
}

#[cfg(feature = "redis")]
mod redis {
    use super::*;

    #[test]
    fn a_redis_password_stays_hidden() {
        let env = TestEnv::new();
        for port in [6379, free_port()] {
            env.config(&route_all_to(&format!(
                "kind = \"redis\"\nurl = \"redis://default:{CANARY}@127.0.0.1:{port}/0\"\nstream = \"{}\"",
                unique("outboxctl-secrets:")
            )));
            assert_hidden(&logs_at_debug(&env, &[]), &format!("Redis on port {port}"));
        }
    }
}

#[cfg(feature = "mqtt")]
mod mqtt {
    use super::*;

    /// Mosquitto on 1883 (anonymous access: the credentials are accepted) and a closed port.
    #[test]
    fn an_mqtt_password_stays_hidden() {
        let env = TestEnv::new();
        for port in [1883, free_port()] {
            env.config(&route_all_to(&format!(
                "kind = \"mqtt\"\nurl = \"mqtt://relay:{CANARY}@127.0.0.1:{port}\"\ntopic = \"{}/{{type}}\"",
                unique("outboxctl-test/")
            )));
            assert_hidden(&logs_at_debug(&env, &[]), &format!("MQTT on port {port}"));
        }
    }
}

#[cfg(feature = "kafka")]
mod kafka {
    use super::*;

    /// The SASL password, inline and from a file, against tansu on 9092 (which asks for no
    /// SASL: the handshake fails and librdkafka logs it) and a closed port.
    #[test]
    fn a_kafka_sasl_password_stays_hidden() {
        const SASL: &str = "\"security.protocol\" = \"sasl_plaintext\", \"sasl.mechanism\" = \"PLAIN\", \
                            \"sasl.username\" = \"relay\"";
        let env = TestEnv::new();
        let file = env.write("kafka-password", &format!("{CANARY}\n"));
        for port in [9092, free_port()] {
            let sink = |password: &str| {
                format!(
                    "kind = \"kafka\"\nbootstrap_servers = \"127.0.0.1:{port}\"\ntopic = \"{}\"\n{password}",
                    unique("outboxctl-secrets-")
                )
            };
            env.config(&route_all_to(&sink(&format!(
                "options = {{ {SASL}, \"sasl.password\" = \"{CANARY}\" }}"
            ))));
            assert_hidden(&logs_at_debug(&env, &[]), &format!("Kafka, inline, port {port}"));
            env.config(&route_all_to(&sink(&format!(
                "options = {{ {SASL} }}\nsasl_password_file = \"{}\"",
                file.display()
            ))));
            assert_hidden(
                &logs_at_debug(&env, &[]),
                &format!("Kafka, from a file, port {port}"),
            );
        }
    }
}

#[cfg(feature = "rabbitmq")]
mod rabbitmq {
    use super::*;

    #[test]
    fn a_rabbitmq_password_stays_hidden() {
        let env = TestEnv::new();
        for port in [5672, free_port()] {
            env.config(&route_all_to(&format!(
                "kind = \"rabbitmq\"\nurl = \"amqp://guest:{CANARY}@127.0.0.1:{port}/%2f\"\nrouting_key = \"x\""
            )));
            assert_hidden(&logs_at_debug(&env, &[]), &format!("RabbitMQ on port {port}"));
        }
    }

    fn unroutable(env: &TestEnv) -> String {
        env.config(&route_all_to(&format!(
            "kind = \"rabbitmq\"\nrouting_key = \"{}\"",
            unique("no-such-queue-")
        )));
        let emitted = env.json(&["emit", "event", "OrderPlaced", BODY]);
        emitted["emitted"][0]["id"].as_str().unwrap().to_owned()
    }

    #[test]
    fn an_unroutable_message_body_stays_out_of_logs_unless_asked_for() {
        let env = TestEnv::new();

        // Asked for by naming lapin: the client logs the returned message whole.
        unroutable(&env);
        let mut c = env.cmd();
        c.args(["process-once"]).env("OUTBOX_LOG", "warn,lapin=warn");
        let o = env.output(c);
        assert!(shows_body(&o.stderr), "{o:#?}");

        for verbosity in [&[][..], &["-vv"], &["-vvv"]] {
            let id = unroutable(&env);
            let o = run(&env, &[verbosity, &["process-once"]].concat());
            assert_eq!(o.code, 0, "{o:#?}");
            assert!(o.stdout.contains("failed 1"), "{o:#?}");
            assert!(!shows_body(&o.stderr), "{verbosity:?}: {o:#?}");
            assert!(o.stderr.contains("unroutable"), "{o:#?}");
            // The default URL is guest:guest: the user name stays readable, the password not.
            let error = env.show(&id)["error"].as_str().unwrap().to_owned();
            assert!(error.contains("amqp://guest:***@127.0.0.1:5672"), "{error}");
        }
    }

    #[test]
    fn a_refused_login_is_one_line_of_outboxctl_and_no_library_errors() {
        let env = TestEnv::new();
        env.config(&route_all_to(&format!(
            "kind = \"rabbitmq\"\nurl = \"amqp://guest:{CANARY}@127.0.0.1:5672/%2f\"\nrouting_key = \"x\""
        )));
        env.json(&["emit", "event", "OrderPlaced", "{}"]);
        let o = run(&env, &["process-once"]);
        assert_eq!(o.code, 0, "{o:#?}");
        assert_eq!(
            o.stdout.trim(),
            "claimed 1, delivered 0, failed 1, dead 0",
            "{o:#?}"
        );
        let lines: Vec<&str> = o.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{o:#?}");
        assert!(lines[0].contains(" WARN "), "{o:#?}");
        assert!(
            lines[0].contains("cannot connect to RabbitMQ (amqp://guest:***@127.0.0.1:5672/%2f)")
                && lines[0].contains("Login was refused"),
            "{o:#?}"
        );
        assert!(!o.stderr.contains(CANARY), "{o:#?}");
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;

    /// The database URL with the canary as its password (the test server trusts every login).
    fn with_canary(url: &str) -> String {
        let mut url = url::Url::parse(url).unwrap();
        url.set_password(Some(CANARY)).unwrap();
        url.to_string()
    }

    #[test]
    fn a_database_password_stays_hidden() {
        let schema = common::PgSchema::new("secrets");
        let env = TestEnv::new();
        let reachable = with_canary(&schema.url);
        let init = run(&env, &["-vv", "--database", &reachable, "init"]);
        assert_eq!(init.code, 0, "{init:#?}");
        assert!(
            !init.stdout.contains(CANARY) && !init.stderr.contains(CANARY),
            "{init:#?}"
        );
        assert_hidden(
            &logs_at_debug(&env, &["--database", &reachable]),
            "reachable PostgreSQL",
        );
        assert_eq!(schema.count("SELECT count(*) FROM \"OutboxMessage\""), 1);

        let closed = format!("postgres://postgres:{CANARY}@127.0.0.1:{}/postgres", free_port());
        let o = run(&env, &["-vv", "--database", &closed, "list"]);
        assert_ne!(o.code, 0, "{o:#?}");
        assert!(!o.stderr.contains(CANARY), "{o:#?}");
        assert!(o.stderr.contains("postgres:***@127.0.0.1"), "{o:#?}");
    }
}
