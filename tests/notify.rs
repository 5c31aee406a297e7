//! Notifications through the library API to loopback HTTP receivers written here (what is
//! sent is the thing under test): the Slack payload and its escaping, the webhook's body,
//! retries after 500, no retry after 400, a hanging webhook that blocks neither the caller nor
//! the other sink, the rate limit and its summary, and the secret URL kept out of logs and
//! errors.

use std::io;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

mod support;

use fleetdeck::incident::notify::{
    Backoff, Limits, Notice, NoticeEvent, Notifier, SecretUrl, Sink, SinkKind, SinkStatus,
};
use serde_json::Value;
use support::webhook_receiver::{Received, Receiver, Reply};

/// Every test's bound: nothing here may hang the suite.
const TEST_LIMIT: Duration = Duration::from_secs(60);
/// How long a test waits for something to arrive.
const WAIT: Duration = Duration::from_secs(20);

async fn bounded<T>(test: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(TEST_LIMIT, test).await {
        Ok(v) => v,
        Err(_) => panic!("test did not finish within {TEST_LIMIT:?}"),
    }
}

// ---- helpers --------------------------------------------------------------------------------

fn sink(kind: SinkKind, url: &str) -> Sink {
    match SecretUrl::parse(url) {
        Ok(url) => Sink { kind, url },
        Err(e) => panic!("bad test URL: {e}"),
    }
}

/// Short timeouts and backoff, so retries take milliseconds.
fn limits(timeout: Duration, attempts: u32) -> Limits {
    Limits {
        per_minute: 600,
        timeout,
        attempts,
        queue: 64,
        backoff: Backoff {
            base: Duration::from_millis(20),
            max: Duration::from_millis(100),
        },
    }
}

fn start(sinks: Vec<Sink>, limits: Limits) -> Notifier {
    match Notifier::start(sinks, limits) {
        Ok(n) => n,
        Err(e) => panic!("notifier did not start: {e}"),
    }
}

/// Waits (bounded) until the sink's status satisfies `done`; returns it.
async fn wait_status(
    notifier: &Notifier,
    index: usize,
    done: impl Fn(&SinkStatus) -> bool,
) -> SinkStatus {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let status = notifier.status()[index].clone();
        if done(&status) {
            return status;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("status never reached the expected state: {status:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn notice(event: NoticeEvent, title: &str) -> Notice {
    let mut n = Notice::new(event, "01JINC", title, "critical", "alertmanager");
    n.hosts = vec![
        "web02".to_string(),
        "web01".to_string(),
        "web03".to_string(),
    ];
    n.labels
        .insert("alertname".to_string(), "NginxDown".to_string());
    n.labels
        .insert("instance".to_string(), "<!here>:9100".to_string());
    n.runbook_url = Some("https://wiki.example/nginx".to_string());
    n.hint = Some("restart nginx with the `restart-unit` action".to_string());
    n
}

/// Every string inside a JSON value, joined by newlines.
fn all_text(v: &Value) -> String {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(map) => map.values().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out.join("\n")
}

// ---- tests ----------------------------------------------------------------------------------

#[tokio::test]
async fn slack_gets_block_kit_and_alert_text_cannot_ping_or_link() {
    bounded(async {
        let slack = Receiver::start(Vec::new(), Reply::Status(200)).await;
        let notifier = start(
            vec![sink(SinkKind::Slack, &slack.url("/services/T0/B0/x"))],
            limits(Duration::from_secs(5), 1),
        );
        notifier.notify(&notice(
            NoticeEvent::Opened,
            "<!channel> nginx down <@U123> <http://evil.example|click here>",
        ));
        let got = slack.wait_for(1).await;
        assert_eq!(got[0].path, "/services/T0/B0/x");
        let body = got[0].json();
        let text = all_text(&body);
        for control in ["<!channel>", "<@U123>", "<http://evil", "<!here>"] {
            assert!(
                !text.contains(control),
                "{control} reached Slack unescaped:\n{text}"
            );
        }
        assert!(
            text.contains(
                "&lt;!channel&gt; nginx down &lt;@U123&gt; &lt;http://evil.example|click here&gt;"
            ),
            "{text}"
        );
        // Severity, hosts folded, labels, hint and the runbook link.
        let blocks = body["blocks"].as_array().cloned().unwrap_or_default();
        assert!(blocks.len() >= 5, "{body:#}");
        assert!(
            text.contains(":red_circle: *CRITICAL* · *Opened*"),
            "{text}"
        );
        assert!(text.contains("*Hosts*\nweb[01-03] (3)"), "{text}");
        assert!(text.contains("instance=&lt;!here&gt;:9100"), "{text}");
        assert!(text.contains("*Hint*\nrestart nginx"), "{text}");
        assert!(
            text.contains("<https://wiki.example/nginx|open the runbook>"),
            "{text}"
        );
        assert_eq!(text.matches('<').count(), 1, "one link only:\n{text}");
        let status = wait_status(&notifier, 0, |s| s.sent == 1).await;
        assert_eq!((status.failed, status.retried), (0, 0));
    })
    .await;
}

#[tokio::test]
async fn the_webhook_gets_the_documented_body() {
    bounded(async {
        let hook = Receiver::start(Vec::new(), Reply::Status(204)).await;
        let notifier = start(
            vec![sink(SinkKind::Webhook, &hook.url("/hooks/incidents"))],
            limits(Duration::from_secs(5), 1),
        );
        let mut ack = notice(NoticeEvent::Acked, "nginx down");
        ack.who = Some("ann@console".to_string());
        ack.comment = Some("restarting".to_string());
        notifier.notify(&notice(NoticeEvent::Opened, "nginx down"));
        notifier.notify(&ack);
        notifier.notify(&notice(NoticeEvent::Resolved, "nginx down"));
        let got = hook.wait_for(3).await;
        let events: Vec<Value> = got.iter().map(Received::json).collect();
        // In order, one per notice.
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| e["event"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(kinds, ["opened", "acked", "resolved"]);
        let acked = &events[1];
        let mut keys: Vec<&str> = acked
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "comment",
                "event",
                "hint",
                "hosts",
                "hosts_folded",
                "id",
                "labels",
                "runbook_url",
                "severity",
                "source",
                "title",
                "ts",
                "v",
                "who"
            ]
        );
        assert_eq!(acked["v"], 1);
        assert_eq!(acked["id"], "01JINC");
        assert_eq!(acked["hosts_folded"], "web[01-03]");
        assert_eq!(acked["who"], "ann@console");
        assert_eq!(acked["comment"], "restarting");
        // The webhook gets the text as it is; escaping is the receiver's business.
        assert_eq!(acked["labels"]["instance"], "<!here>:9100");
        wait_status(&notifier, 0, |s| s.sent == 3).await;
    })
    .await;
}

#[tokio::test]
async fn a_500_is_tried_again_until_it_succeeds_and_a_400_is_not() {
    bounded(async {
        let flaky = Receiver::start(
            vec![Reply::Status(500), Reply::Status(503)],
            Reply::Status(200),
        )
        .await;
        let notifier = start(
            vec![sink(SinkKind::Webhook, &flaky.url("/hook"))],
            limits(Duration::from_secs(5), 4),
        );
        notifier.notify(&notice(NoticeEvent::Opened, "flaky"));
        let status = wait_status(&notifier, 0, |s| s.sent == 1).await;
        let got = flaky.received();
        assert_eq!(got.len(), 3, "two failures then the success");
        assert!(
            got.iter().all(|r| r.body == got[0].body),
            "the same body each time"
        );
        assert_eq!((status.retried, status.failed), (2, 0));
        assert!(!status.failing(), "{status:?}");

        let refusing = Receiver::start(Vec::new(), Reply::Status(400)).await;
        let notifier = start(
            vec![sink(SinkKind::Webhook, &refusing.url("/hook"))],
            limits(Duration::from_secs(5), 4),
        );
        notifier.notify(&notice(NoticeEvent::Opened, "bad request"));
        let status = wait_status(&notifier, 0, |s| s.failed == 1).await;
        assert_eq!(refusing.received().len(), 1, "a 400 is not repeated");
        assert!(status.failing());
        assert!(
            status
                .last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("HTTP 400")),
            "{status:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_hanging_webhook_blocks_neither_the_caller_nor_slack() {
    bounded(async {
        let hung = Receiver::start(Vec::new(), Reply::Hang).await;
        let slack = Receiver::start(Vec::new(), Reply::Status(200)).await;
        let mut l = limits(Duration::from_secs(1), 2);
        l.queue = 4;
        let notifier = start(
            vec![
                sink(SinkKind::Webhook, &hung.url("/hook")),
                sink(SinkKind::Slack, &slack.url("/services/x")),
            ],
            l,
        );
        // notify never waits, and Slack gets each notice while the webhook hangs.
        for i in 0..20 {
            notifier.notify(&notice(NoticeEvent::Opened, &format!("incident {i}")));
            slack.wait_for(i + 1).await;
        }
        // The webhook holds one in flight and four queued; the rest were dropped and counted.
        let status = notifier.status()[0].clone();
        assert!(status.dropped_full >= 15, "{status:?}");
        // Its first notice times out (twice: two attempts) and is given up on.
        let status = wait_status(&notifier, 0, |s| s.failed >= 1).await;
        assert!(
            status
                .last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("no answer within 1s")),
            "{status:?}"
        );
        // Shutting down does not wait for the hung sink longer than asked.
        notifier.shutdown(Duration::from_millis(100)).await;
    })
    .await;
}

#[tokio::test]
async fn the_rate_limit_drops_and_sums_up() {
    bounded(async {
        let hook = Receiver::start(Vec::new(), Reply::Status(200)).await;
        let mut l = limits(Duration::from_secs(5), 1);
        // A burst of 60, then one a second.
        l.per_minute = 60;
        l.queue = 100;
        let notifier = start(vec![sink(SinkKind::Webhook, &hook.url("/hook"))], l);
        for i in 0..65 {
            notifier.notify(&notice(NoticeEvent::Opened, &format!("storm {i}")));
        }
        let got = hook.wait_for(61).await;
        let events: Vec<Value> = got.iter().map(Received::json).collect();
        assert_eq!(events.iter().filter(|e| e["event"] == "opened").count(), 60);
        let summary = events.iter().find(|e| e["event"] == "dropped");
        assert_eq!(
            summary.map(|s| s["dropped"].clone()),
            Some(Value::from(5)),
            "{events:?}"
        );
        let status = wait_status(&notifier, 0, |s| s.sent == 61).await;
        assert_eq!(status.dropped_rate, 5);
    })
    .await;
}

/// A log sink for the test: everything tracing writes, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).to_string()
    }
}

// current_thread (the default): the delivery tasks run on this thread, under the subscriber
// set below.
#[tokio::test]
async fn the_secret_url_stays_out_of_logs_and_errors() {
    const SECRET: &str = "SECRETSECRET";
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let captured = captured.clone();
            move || captured.clone()
        })
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    bounded(async {
        // Slack answers 404 and quotes the secret path back; the webhook's port is closed.
        let slack = Receiver::start(Vec::new(), Reply::Status(404)).await;
        let closed = match std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)) {
            Ok(l) => l.local_addr().map(|a| a.port()).unwrap_or(9),
            Err(e) => panic!("no port: {e}"),
        };
        let notifier = start(
            vec![
                sink(
                    SinkKind::Slack,
                    &slack.url(&format!("/services/T0/B0/{SECRET}")),
                ),
                sink(
                    SinkKind::Webhook,
                    &format!("http://127.0.0.1:{closed}/hook/{SECRET}?token={SECRET}"),
                ),
            ],
            limits(Duration::from_secs(2), 2),
        );
        notifier.notify(&notice(NoticeEvent::Opened, "leak test"));
        let slack_status = wait_status(&notifier, 0, |s| s.failed == 1).await;
        let hook_status = wait_status(&notifier, 1, |s| s.failed == 1).await;
        assert_eq!(
            hook_status.last_error.as_deref(),
            Some("connection refused")
        );
        assert!(
            slack_status
                .last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("HTTP 404"))
        );
        let logs = captured.text();
        assert!(logs.contains("notification not delivered"), "{logs}");
        assert!(
            logs.contains(&format!("http://127.0.0.1:{closed}/…")),
            "{logs}"
        );
        for shown in [
            logs,
            format!("{notifier:?}"),
            format!("{slack_status:?} {hook_status:?}"),
            slack_status.summary(),
            hook_status.summary(),
        ] {
            assert!(!shown.contains(SECRET), "the secret leaked:\n{shown}");
        }
    })
    .await;
}

/// A session that writes incidents sends through `[notify]` and tells its front end how the
/// sinks are doing: an ack's notice refused with 400 makes the webhook show as failing.
#[tokio::test]
async fn the_session_reports_a_failing_sink() {
    use fleetdeck::config::{Home, Settings};
    use fleetdeck::engine::{FleetSession, SessionOptions};
    use fleetdeck::incident::{Book, Observation, Severity, Source};
    bounded(async {
        let refusing = Receiver::start(Vec::new(), Reply::Status(400)).await;
        let dir = tempfile::tempdir().unwrap();
        let home = Home::under(dir.path());
        home.ensure_writable_dirs().unwrap();
        let config = format!("[notify.webhook]\nurl = \"{}\"\n", refusing.url("/hook"));
        let settings = Settings::parse(std::path::Path::new("config.toml"), &config).unwrap();
        let mut book = Book::for_home(&home, &settings.store).unwrap();
        let opened = book
            .observe(&Observation {
                source: Source::Check,
                fingerprint: "web/web01".into(),
                title: "web down".into(),
                severity: Severity::Critical,
                hosts: vec!["web01".into()],
                labels: Default::default(),
                annotations: Default::default(),
                firing: true,
                ts: "2026-12-07T10:00:00Z".into(),
            })
            .unwrap()
            .unwrap();
        let session = FleetSession::open(
            &home,
            &settings,
            SessionOptions {
                record_incidents: true,
                ..SessionOptions::new(Vec::new())
            },
        )
        .unwrap();
        let before = session.notify_status();
        assert_eq!(before.len(), 1, "{before:?}");
        assert!(!before[0].failing());
        session
            .ack_incident(&opened.id, Some("on it"))
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + WAIT;
        let status = loop {
            let status = session.notify_status();
            if status[0].failing() {
                break status;
            }
            assert!(tokio::time::Instant::now() < deadline, "{status:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(status[0].sink, "webhook");
        assert!(status[0].summary().contains("HTTP 400"), "{status:?}");
        assert_eq!(refusing.received().len(), 1);
        session.shutdown(Duration::from_secs(5)).await;
    })
    .await;
}
