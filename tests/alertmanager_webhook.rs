//! `[alertmanager] listen`: a real Alertmanager whose receiver POSTs to the session's webhook.
//! With `poll_interval` at an hour, an alert reaches the incident book (and the session's
//! frame) only through the webhook's poke; other paths and methods are refused.

mod support;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use fleetdeck::config::{Home, Settings};
use fleetdeck::engine::{FleetSession, SessionOptions};
use fleetdeck::inventory::load;
use serde_json::json;
use support::alertmanager::{Alertmanager, alertmanager_or_skip};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Liveness bound (an hour's poll would never meet it).
const BOUND: Duration = Duration::from_secs(30);

/// One raw HTTP request to 127.0.0.1:`port`; the status line of the answer.
async fn request(port: u16, head: &str) -> String {
    let mut s = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
        .await
        .unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_brings_an_alert_in_without_waiting_for_the_poll() {
    if !alertmanager_or_skip("the_webhook_brings_an_alert_in_without_waiting_for_the_poll") {
        return;
    }
    let hook = support::free_port().unwrap();
    let am = Alertmanager::start_with(&format!(
        "route:\n  receiver: fleetdeck\n  group_wait: 0s\n  group_interval: 1s\n  \
         group_by: ['...']\nreceivers:\n  - name: fleetdeck\n    webhook_configs:\n      \
         - url: http://127.0.0.1:{hook}/alertmanager\n        send_resolved: true\n"
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let home = Home::under(dir.path());
    home.ensure_writable_dirs().unwrap();
    std::fs::create_dir_all(&home.config_dir).unwrap();
    std::fs::write(
        home.hosts_file(),
        "[[hosts]]\nname = \"web01\"\ntransport = \"local\"\n",
    )
    .unwrap();
    let settings = Settings::parse(
        std::path::Path::new("config.toml"),
        &format!(
            "[alertmanager]\nurl = \"{}\"\npoll_interval = \"1h\"\nlisten = \"127.0.0.1:{hook}\"\n",
            am.url()
        ),
    )
    .unwrap();
    let hosts = load::load(&home.hosts_file()).unwrap().hosts().to_vec();
    let session = FleetSession::open(
        &home,
        &settings,
        SessionOptions {
            record_incidents: true,
            ..SessionOptions::new(hosts)
        },
    )
    .unwrap();

    // The hook is up (bound by the session as it starts) and strict about what it takes.
    let start = Instant::now();
    loop {
        let line = request(
            hook,
            "GET /alertmanager HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        if line.contains("405") {
            break;
        }
        assert!(
            start.elapsed() < BOUND,
            "the webhook never answered: {line:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line = request(
        hook,
        "POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(line.contains("404"), "{line}");

    // The first timed poll ran at start (nothing there); the next one is an hour away.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let alerts = json!([{
        "labels": {"alertname": "DiskFull", "instance": "web01:9100", "severity": "critical"},
        "annotations": {"summary": "disk full on web01"},
    }]);
    let posted = reqwest::Client::new()
        .post(format!("{}/api/v2/alerts", am.url()))
        .header("content-type", "application/json")
        .body(alerts.to_string())
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_success(), "{}", am.log_tail(20));
    let start = Instant::now();
    loop {
        let frame = session.incidents();
        if let Some(i) = frame
            .incidents
            .iter()
            .find(|i| i.title == "disk full on web01")
        {
            assert_eq!(i.hosts, ["web01"]);
            break;
        }
        assert!(
            start.elapsed() < BOUND,
            "not in the book: {frame:?}\n{}",
            am.log_tail(20)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.shutdown(Duration::from_secs(5)).await;
}
