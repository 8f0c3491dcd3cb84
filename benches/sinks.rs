//! Messages per second delivered to each destination from a 20k backlog through the relay,
//! beside the plain client library publishing the same messages in the same run.
//!
//! `cargo bench --bench sinks --all-features` (needs Redis, NATS with JetStream, RabbitMQ,
//! Mosquitto and tansu (Kafka) on 127.0.0.1, as `.ci/services` starts them; the webhook receiver
//! is started here). `-- kafka` runs one destination.
//! `OUTBOX_BENCH_MESSAGES` and `OUTBOX_BENCH_BATCH` change the backlog and the claim size.
//! Beside the rates of NATS, Redis and RabbitMQ: the CPU time of this process and of the
//! server (its processes found by name in /proc) over each side.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use outboxctl::model::{Message, NewMessage};
use outboxctl::relay::{Relay, RelaySettings};
use outboxctl::retry::RetryPolicy;
use outboxctl::sink::{Pending, Router, Sink, SinkConfig};
use outboxctl::store::{self, StoreOptions};
use outboxctl::time::SystemClock;

#[path = "common/cpu.rs"]
mod cpu;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn content(i: usize) -> String {
    format!(
        r#"{{"order":{i},"customer":"c-{}","total":{}.50,"lines":[{{"sku":"A-1","qty":2}}]}}"#,
        i % 977,
        i % 500
    )
}

/// A backlog of `n` messages in a fresh SQLite database; returns the messages as the relay
/// would read them, for the plain client to publish.
fn backlog(dir: &std::path::Path, n: usize, ty: &str) -> (String, Vec<Message>) {
    let db = dir.join(format!("{ty}.db")).display().to_string();
    let opts = StoreOptions {
        table: "OutboxMessage".into(),
        busy_timeout: Duration::from_secs(5),
    };
    let mut store = store::open(&db, &opts).unwrap();
    let now = chrono::Utc::now();
    let all: Vec<NewMessage> = (0..n).map(|i| NewMessage::new(ty, content(i), now)).collect();
    for chunk in all.chunks(5000) {
        let mut tx = store.begin().unwrap();
        tx.insert_messages(chunk).unwrap();
        tx.commit().unwrap();
    }
    let messages = all
        .into_iter()
        .map(|m| Message {
            occurred_on: Some(m.occurred_on),
            key: m.key,
            ..Message::new(m.id, m.event_type, m.content)
        })
        .collect();
    (db, messages)
}

/// Accepts whole batches at once and does nothing: what the relay costs without a destination.
struct Accept;

impl Sink for Accept {
    fn send(&mut self, run: &[Message]) -> Pending {
        Pending::ready(vec![Ok(()); run.len()])
    }
    fn max_in_flight(&self) -> usize {
        256
    }
}

/// Drains the backlog through the relay; returns messages per second.
fn relay(db: &str, sink: &str, n: usize, batch: usize) -> f64 {
    let routes = BTreeMap::from([("*".to_owned(), vec!["s".to_owned()])]);
    let mut router = if sink == "accept" {
        let mut r = Router::new(&BTreeMap::new(), &routes);
        r.insert("s", Box::new(Accept));
        r
    } else {
        let cfg: SinkConfig = toml::from_str(sink).unwrap();
        let resolved = cfg.resolve(&|_| None).unwrap();
        Router::new(&BTreeMap::from([("s".to_owned(), resolved)]), &routes)
    };
    let opts = StoreOptions {
        table: "OutboxMessage".into(),
        busy_timeout: Duration::from_secs(5),
    };
    let mut store = store::open(db, &opts).unwrap();
    let settings = RelaySettings {
        owner: "bench".into(),
        batch_size: batch,
        lease: Duration::from_secs(300),
        retry: RetryPolicy::default(),
        skip_dead: Default::default(),
        circuit: Default::default(),
    };
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let mut delivered = 0;
    loop {
        let report = Relay {
            store: store.as_mut(),
            router: &mut router,
            clock: &SystemClock,
            settings: &settings,
            breaker: &mut Default::default(),
            queue: outboxctl::store::Queue::Outbox,
        }
        .run_once(&stop)
        .unwrap();
        assert_eq!(report.failed + report.dead, 0, "deliveries failed: {report:?}");
        delivered += report.delivered as usize;
        if report.claimed == 0 {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(delivered, n);
    n as f64 / secs
}

/// CPU time (user + system) of this process and of the destination's server, the processes of
/// that name on this host, from a start; printed beside the wall-clock rates.
struct Cpu {
    server: &'static str,
    this: Duration,
    theirs: Duration,
}

impl Cpu {
    fn start(server: &'static str) -> Self {
        Cpu {
            server,
            this: cpu_of(&["self".to_owned()]),
            theirs: cpu_of(&cpu::pids_named(server)),
        }
    }

    fn show(&self) -> String {
        let this = cpu_of(&["self".to_owned()]).saturating_sub(self.this);
        let theirs = cpu_of(&cpu::pids_named(self.server)).saturating_sub(self.theirs);
        format!(
            "this process {:.2} s, {} {:.2} s",
            this.as_secs_f64(),
            self.server,
            theirs.as_secs_f64()
        )
    }
}

fn cpu_of(pids: &[String]) -> Duration {
    pids.iter().filter_map(|pid| cpu::proc_cpu(pid)).sum()
}

fn cpu_line(name: &str, plain: &str, relay: &str) {
    println!("{name:<10} cpu   plain client: {plain}; relay: {relay}");
}

fn line(name: &str, relay: f64, plain: f64, note: &str) {
    println!(
        "{name:<10} relay {relay:>9.0} msg/s   plain client {plain:>9.0} msg/s   ratio {:>5.1}%   {note}",
        100.0 * relay / plain
    );
}

fn envelope(m: &Message) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": m.id, "type": m.event_type, "occurred_on": m.occurred_on, "attempt": 1,
        "content": serde_json::from_str::<serde_json::Value>(&m.content).unwrap(),
    }))
    .unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------

fn bench_nats(dir: &std::path::Path, n: usize, batch: usize) {
    use async_nats::jetstream;
    let rt = rt();
    let ctx =
        rt.block_on(async { jetstream::new(async_nats::connect("nats://127.0.0.1:4222").await.unwrap()) });
    // Each side publishes into a stream of its own, made just before and dropped just after:
    // a stream that already holds (and dedups) the other sides' messages is slower to publish to.
    let stream = |side: &str| {
        let prefix = format!("outboxbench{side}{}", uuid::Uuid::new_v4().simple());
        rt.block_on(ctx.create_stream(jetstream::stream::Config {
            name: prefix.to_uppercase(),
            subjects: vec![format!("{prefix}.>")],
            ..Default::default()
        }))
        .unwrap();
        prefix
    };
    let drop_stream = |prefix: &str| {
        rt.block_on(async {
            let mut s = ctx.get_stream(prefix.to_uppercase()).await.unwrap();
            let stored = s.info().await.unwrap().state.messages;
            ctx.delete_stream(prefix.to_uppercase()).await.unwrap();
            assert_eq!(stored as usize, n, "{prefix} holds every message once");
        })
    };
    let (db, messages) = backlog(dir, n, "OrderPlaced");

    // The plain client: publish with Nats-Msg-Id, acknowledgements awaited in windows.
    let window = 256;
    let prefix = stream("plain");
    let cpu = Cpu::start("nats-server");
    let started = Instant::now();
    rt.block_on(async {
        for chunk in messages.chunks(window) {
            let mut acks = Vec::with_capacity(chunk.len());
            for m in chunk {
                let mut h = async_nats::HeaderMap::new();
                h.insert("Nats-Msg-Id", m.id.as_str());
                acks.push(
                    ctx.publish_with_headers(format!("{prefix}.plain"), h, envelope(m).into())
                        .await
                        .unwrap(),
                );
            }
            for a in acks {
                a.await.unwrap();
            }
        }
    });
    let plain = n as f64 / started.elapsed().as_secs_f64();
    let plain_cpu = cpu.show();
    drop_stream(&prefix);

    {
        let prefix = stream("alone");
        let cfg: SinkConfig =
            toml::from_str(&format!("kind = \"nats\"\nsubject = \"{prefix}.x\"\n")).unwrap();
        let resolved = cfg.resolve(&|_| None).unwrap();
        let routes = BTreeMap::from([("*".to_owned(), vec!["s".to_owned()])]);
        let mut r = Router::new(&BTreeMap::from([("s".to_owned(), resolved)]), &routes);
        let t = Instant::now();
        for chunk in messages.chunks(window) {
            assert!(r.send("s", chunk).wait().iter().all(Result::is_ok));
        }
        // The sink without the relay and SQLite around it, to tell where the time goes.
        let alone = n as f64 / t.elapsed().as_secs_f64();
        println!(
            "{:<10} sink  {alone:>9.0} msg/s   (the NATS sink alone, each run waited for, no database)",
            "nats"
        );
        drop_stream(&prefix);
    }
    let prefix = stream("relay");
    let cpu = Cpu::start("nats-server");
    let relay = relay(
        &db,
        &format!("kind = \"nats\"\nsubject = \"{prefix}.{{type}}\"\nmax_in_flight = {window}\n"),
        n,
        batch,
    );
    let relay_cpu = cpu.show();
    drop_stream(&prefix);
    line("nats", relay, plain, "(JetStream acks, 256 in flight)");
    cpu_line("nats", &plain_cpu, &relay_cpu);
}

fn bench_redis(dir: &std::path::Path, n: usize, batch: usize, ceiling: f64) {
    let mut con = redis::Client::open("redis://127.0.0.1:6379")
        .unwrap()
        .get_connection()
        .unwrap();
    let key = format!("outboxbench:{}", uuid::Uuid::new_v4().simple());
    let (db, messages) = backlog(dir, n, "OrderPlaced");

    // The plain client: XADD pipelined in windows.
    let window = 256;
    let plain_key = format!("{key}:plain");
    let cpu = Cpu::start("redis-server");
    let started = Instant::now();
    for chunk in messages.chunks(window) {
        let mut pipe = redis::pipe();
        for m in chunk {
            pipe.cmd("XADD")
                .arg(&plain_key)
                .arg("*")
                .arg("id")
                .arg(&m.id)
                .arg("type")
                .arg(&m.event_type)
                .arg("content")
                .arg(&m.content);
        }
        let _: Vec<redis::Value> = pipe.query(&mut con).unwrap();
    }
    let plain = n as f64 / started.elapsed().as_secs_f64();
    let plain_cpu = cpu.show();

    let cpu = Cpu::start("redis-server");
    let relay_plain = relay(&db, &format!("kind = \"redis\"\nstream = \"{key}\"\n"), n, batch);
    let relay_cpu = cpu.show();
    let n_stored: usize = redis::cmd("XLEN").arg(&key).query(&mut con).unwrap();
    assert_eq!(n_stored, n);
    line(
        "redis",
        relay_plain,
        plain,
        "(pipelined XADD, 256 per round trip)",
    );
    cpu_line("redis", &plain_cpu, &relay_cpu);
    println!(
        "{:<10} relay {relay_plain:>9.0} msg/s   ceiling {ceiling:>9.0} msg/s         ratio {:>5.1}%   (target >= 80% of the ceiling)",
        "redis",
        100.0 * relay_plain / ceiling
    );

    let (db, _) = backlog(dir, n, "OrderShipped");
    let dedup_key = format!("{key}:dedup");
    let relay_dedup = relay(
        &db,
        &format!("kind = \"redis\"\nstream = \"{dedup_key}\"\ndedup = true\ndedup_window = \"5m\"\n"),
        n,
        batch,
    );
    line(
        "redis-dedup",
        relay_dedup,
        plain,
        "(dedup script, pipelined; plain client without dedup)",
    );
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .arg(&plain_key)
        .arg(&dedup_key)
        .query(&mut con)
        .unwrap();
}

fn bench_rabbitmq(dir: &std::path::Path, n: usize, batch: usize) {
    use lapin::options::*;
    use lapin::types::FieldTable;
    use lapin::{BasicProperties, Connection, ConnectionProperties};
    let rt = rt();
    let url = "amqp://guest:guest@127.0.0.1:5672/%2f";
    let queue = format!("outboxbench-{}", uuid::Uuid::new_v4().simple());
    let plain_queue = format!("{queue}-plain");
    let (_conn, ch) = rt.block_on(async {
        let conn = Connection::connect(url, ConnectionProperties::default())
            .await
            .unwrap();
        let ch = conn.create_channel().await.unwrap();
        for q in [&queue, &plain_queue] {
            ch.queue_declare(
                q.as_str().into(),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        }
        ch.confirm_select(ConfirmSelectOptions::default()).await.unwrap();
        (conn, ch)
    });
    let (db, messages) = backlog(dir, n, "OrderPlaced");

    let window = 256;
    let cpu = Cpu::start("beam.smp");
    let started = Instant::now();
    rt.block_on(async {
        for chunk in messages.chunks(window) {
            let mut confirms = Vec::with_capacity(chunk.len());
            for m in chunk {
                let props = BasicProperties::default()
                    .with_message_id(m.id.as_str().into())
                    .with_delivery_mode(2);
                let opts = BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                };
                confirms.push(
                    ch.basic_publish("".into(), plain_queue.as_str().into(), opts, &envelope(m), props)
                        .await
                        .unwrap(),
                );
            }
            for c in confirms {
                assert!(c.await.unwrap().is_ack());
            }
        }
    });
    let plain = n as f64 / started.elapsed().as_secs_f64();
    let plain_cpu = cpu.show();
    let cpu = Cpu::start("beam.smp");
    let relay = relay(
        &db,
        &format!("kind = \"rabbitmq\"\nrouting_key = \"{queue}\"\nmax_in_flight = {window}\n"),
        n,
        batch,
    );
    let relay_cpu = cpu.show();
    rt.block_on(async {
        let q = ch
            .queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        assert_eq!(q.message_count() as usize, n);
        for q in [&queue, &plain_queue] {
            ch.queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await
                .unwrap();
        }
    });
    line("rabbitmq", relay, plain, "(persistent, confirms, 256 in flight)");
    cpu_line("rabbitmq", &plain_cpu, &relay_cpu);
}

fn bench_mqtt(dir: &std::path::Path, n: usize, batch: usize) {
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::mqttbytes::v5::{Packet, PublishProperties};
    use rumqttc::v5::{AsyncClient, Event, MqttOptions};
    let rt = rt();
    let topic = format!("outboxbench/{}", uuid::Uuid::new_v4().simple());
    let (db, messages) = backlog(dir, n, "OrderPlaced");

    // The plain client: every message published at QoS 1, done when every PUBACK is in (the
    // client keeps at most the broker's Receive Maximum unacknowledged).
    let started = Instant::now();
    rt.block_on(async {
        let options = MqttOptions::new(
            format!("outboxbench-{}", uuid::Uuid::new_v4().simple()),
            "127.0.0.1",
            1883,
        );
        let (client, mut eventloop) = AsyncClient::new(options, 256);
        let publisher = tokio::spawn(async move {
            for m in &messages {
                let properties = PublishProperties {
                    content_type: Some("application/json".into()),
                    user_properties: vec![("outbox-id".into(), m.id.clone())],
                    ..Default::default()
                };
                client
                    .publish_with_properties(topic.as_str(), QoS::AtLeastOnce, false, envelope(m), properties)
                    .await
                    .unwrap();
            }
            client
        });
        let mut acked = 0;
        while acked < n {
            if let Event::Incoming(Packet::PubAck(_)) = eventloop.poll().await.unwrap() {
                acked += 1;
            }
        }
        drop(publisher.await.unwrap());
    });
    let plain = n as f64 / started.elapsed().as_secs_f64();
    let relay = relay(
        &db,
        "kind = \"mqtt\"\ntopic = \"outboxbench/{type}\"\nmax_in_flight = 256\n",
        n,
        batch,
    );
    line("mqtt", relay, plain, "(QoS 1, on PUBACK, no subscriber)");
}

fn bench_kafka(dir: &std::path::Path, n: usize, batch: usize) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::config::ClientConfig;
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let topic = format!("outboxbench.{}", uuid::Uuid::new_v4().simple());
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", "127.0.0.1:9092")
        .create()
        .unwrap();
    for t in [
        topic.clone(),
        format!("{topic}.relay"),
        format!("{topic}.relay1000"),
    ] {
        let created = rt()
            .block_on(admin.create_topics(
                &[NewTopic::new(&t, 3, TopicReplication::Fixed(1))],
                &AdminOptions::new(),
            ))
            .unwrap();
        assert!(created.iter().all(Result::is_ok), "{created:?}");
    }
    let (db, messages) = backlog(dir, n, "OrderPlaced");
    let (db1000, _) = backlog(dir, n, "OrderShipped");

    // The plain client: the same records (key = Id, the outbox-id, outbox-type and content-type
    // headers, the content as the value) from an idempotent producer with acks=all, done when
    // every delivery report is in.
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", "127.0.0.1:9092")
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("partitioner", "murmur2_random")
        .create()
        .unwrap();
    let started = Instant::now();
    for m in &messages {
        let value = m.content.as_bytes();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "outbox-id",
                value: Some(&m.id),
            })
            .insert(Header {
                key: "outbox-type",
                value: Some(&m.event_type),
            })
            .insert(Header {
                key: "content-type",
                value: Some("application/json"),
            });
        let mut record = BaseRecord::to(&topic).key(&m.id).payload(value).headers(headers);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(1));
                }
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(60)).unwrap();
    let plain = n as f64 / started.elapsed().as_secs_f64();
    // The default runs (max_in_flight = 1000, a whole claim), then smaller ones: the relay has
    // at most two runs outstanding, the plain loop everything.
    let rate = relay(
        &db,
        &format!("kind = \"kafka\"\ntopic = \"{topic}.relay\"\n"),
        n,
        batch,
    );
    line(
        "kafka",
        rate,
        plain,
        "(acks=all, idempotent, 3 partitions, tansu in memory)",
    );
    let rate = relay(
        &db1000,
        &format!("kind = \"kafka\"\ntopic = \"{topic}.relay1000\"\nmax_in_flight = 256\n"),
        n,
        batch,
    );
    line("kafka", rate, plain, "(the same, max_in_flight = 256)");
}

/// A keep-alive webhook receiver answering 200 to everything after `delay` (a handler's work);
/// counts requests and connections. Each connection has a thread of its own, so requests on
/// different connections are answered concurrently, as a real server does.
fn receiver(delay: Duration) -> (u16, Arc<AtomicU64>, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicU64::new(0));
    let connections = Arc::new(AtomicU64::new(0));
    let (c, conns) = (Arc::clone(&count), Arc::clone(&connections));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            conns.fetch_add(1, Ordering::Relaxed);
            let c = Arc::clone(&c);
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let mut w = stream.try_clone().unwrap();
                let mut r = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut len = 0;
                    loop {
                        let mut h = String::new();
                        r.read_line(&mut h).unwrap();
                        let h = h.trim_end().to_ascii_lowercase();
                        if h.is_empty() {
                            break;
                        }
                        if let Some(v) = h.strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; len];
                    r.read_exact(&mut body).unwrap();
                    if !delay.is_zero() {
                        std::thread::sleep(delay);
                    }
                    c.fetch_add(1, Ordering::Relaxed);
                    if w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (port, count, connections)
}

/// Webhooks through the relay one request at a time (`max_in_flight = 1`, as before
/// concurrency) and with the default concurrency, against a receiver answering at once and one
/// taking `BENCH_HTTP_DELAY_MS` (default 2) per request; at once, also the plain client.
fn bench_http(dir: &std::path::Path, n: usize, batch: usize) {
    let delay_ms = env_usize("BENCH_HTTP_DELAY_MS", 2) as u64;
    let default = outboxctl::sink::settings::DEFAULT_HTTP_MAX_IN_FLIGHT;
    let mut delays = vec![0];
    if delay_ms > 0 {
        delays.push(delay_ms);
    }
    for delay in delays {
        let (port, count, connections) = receiver(Duration::from_millis(delay));
        let url = format!("http://127.0.0.1:{port}/hook");
        let (db, messages) = backlog(dir, n, &format!("Webhook{delay}msOne"));
        let one = relay(
            &db,
            &format!("kind = \"http\"\nurl = \"{url}\"\nmax_in_flight = 1\n"),
            n,
            batch,
        );
        let (db, _) = backlog(dir, n, &format!("Webhook{delay}msMany"));
        let before = connections.load(Ordering::Relaxed);
        let many = relay(&db, &format!("kind = \"http\"\nurl = \"{url}\"\n"), n, batch);
        // Pooled: about one connection per worker, not one per request.
        let opened = connections.load(Ordering::Relaxed) - before;
        let mut expected = 2 * n;
        if delay == 0 {
            // The plain client, one request at a time as the relay did before concurrency.
            let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
            let started = Instant::now();
            for m in &messages {
                agent
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("webhook-id", &m.id)
                    .send(&envelope(m)[..])
                    .unwrap();
            }
            let plain = n as f64 / started.elapsed().as_secs_f64();
            expected += n;
            line(
                "http",
                one,
                plain,
                "(max_in_flight = 1: one request at a time, keep-alive; plain client unsigned)",
            );
        }
        println!(
            "{:<10} relay {many:>9.0} msg/s   one at a time {one:>9.0} msg/s   {:>5.1}×   \
             (receiver takes {delay} ms; max_in_flight = {default} over {opened} connections; \
             target ≥ 5× one-at-a-time)",
            format!("http {delay}ms"),
            many / one,
        );
        assert_eq!(count.load(Ordering::Relaxed) as usize, expected);
    }
}

fn main() {
    let n = env_usize("OUTBOX_BENCH_MESSAGES", 20_000);
    let batch = env_usize("OUTBOX_BENCH_BATCH", 1_000);
    let dir = tempfile::tempdir().unwrap();
    println!(
        "sinks benchmark: {n} messages per destination, claimed {batch} at a time, SQLite in {}",
        dir.path().display()
    );
    let which = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let run = |name: &str| which.as_deref().is_none_or(|w| w == name);
    // The relay's own ceiling: what the store allows with a sink that costs nothing. Redis,
    // whose plain client is several times faster, is judged against it.
    let mut ceiling = None;
    if run("store") || run("redis") {
        let (db, _) = backlog(dir.path(), n, "Ceiling");
        let rate = relay(&db, "accept", n, batch);
        println!(
            "{:<10} relay {rate:>9.0} msg/s   (claim + mark processed on SQLite, 256 per mark; a sink that accepts at once)",
            "ceiling"
        );
        ceiling = Some(rate);
    }
    if run("nats") {
        bench_nats(dir.path(), n, batch);
    }
    if run("redis") {
        bench_redis(dir.path(), n, batch, ceiling.unwrap_or(f64::NAN));
    }
    if run("rabbitmq") {
        bench_rabbitmq(dir.path(), n, batch);
    }
    if run("mqtt") {
        bench_mqtt(dir.path(), n, batch);
    }
    if run("kafka") {
        bench_kafka(dir.path(), n, batch);
    }
    if run("http") {
        bench_http(dir.path(), n, batch);
    }
}
