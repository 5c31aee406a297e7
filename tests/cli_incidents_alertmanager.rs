//! `fleetdeck incidents` with Debian's real `prometheus-alertmanager` on loopback: an alert
//! the test posts shows as an incident on the inventory host its `instance` label names;
//! acknowledging it makes a silence there (read back), and refuses, writing nothing, when
//! Alertmanager cannot be reached; the alert ending resolves the incident; Alertmanager down
//! is a warning, not a failed listing.

mod support;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::alertmanager::{Alertmanager, alertmanager_or_skip};
use support::cli::{fleetdeck, home_with, write_config};
use support::webhook_receiver::{Receiver, Reply};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Liveness bound for Alertmanager to show what was posted (never a speed assertion).
const PATIENCE: Duration = Duration::from_secs(60);

const HOSTS: &str = r#"
[[hosts]]
name = "web01"
address = "10.0.0.1"

[[hosts]]
name = "web02"
"#;

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// POSTs alerts to Alertmanager's own API, as Prometheus does.
fn post(am: &Alertmanager, alerts: &Value) {
    let url = format!("{}/api/v2/alerts", am.url());
    let result = runtime().block_on(async {
        reqwest::Client::new()
            .post(&url)
            .timeout(Duration::from_secs(30))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(alerts).unwrap_or_default())
            .send()
            .await
    });
    match result {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => panic!("POST {url}: HTTP {}: {}", r.status(), am.log_tail(20)),
        Err(e) => panic!("POST {url}: {e}: {}", am.log_tail(20)),
    }
}

fn silences(am: &Alertmanager) -> Vec<Value> {
    let url = format!("{}/api/v2/silences", am.url());
    let body = runtime()
        .block_on(async {
            reqwest::Client::new()
                .get(&url)
                .timeout(Duration::from_secs(30))
                .send()
                .await?
                .bytes()
                .await
        })
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

fn disk_alert(starts: OffsetDateTime, ends: OffsetDateTime) -> Value {
    json!([{
        "labels": {"alertname": "DiskFull", "instance": "web01:9100", "severity": "critical"},
        "annotations": {"summary": "disk almost full on web01"},
        "startsAt": rfc3339(starts),
        "endsAt": rfc3339(ends),
    }])
}

fn config(home: &Path, url: &str, webhook: &str) {
    write_config(
        home,
        "config.toml",
        format!(
            "[alertmanager]\nurl = \"{url}\"\nack_silence = \"30m\"\n\n\
             [notify.webhook]\nurl = \"{webhook}\"\n"
        ),
    );
}

/// `fleetdeck incidents [extra] --json` until `pick` finds an incident (or PATIENCE runs out).
fn wait_for(home: &Path, extra: &[&str], what: &str, pick: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let out = fleetdeck(home)
            .args(["incidents", "--json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let found = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .find(|v| pick(v));
        if let Some(v) = found {
            return v;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "no incident {what} within {PATIENCE:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn alertmanager_alert_becomes_an_incident_acked_by_a_silence_and_resolved_when_it_ends() {
    if !alertmanager_or_skip("alertmanager_alert_becomes_an_incident") {
        return;
    }
    let am = match Alertmanager::start() {
        Ok(am) => am,
        Err(e) => panic!("cannot start alertmanager: {e}"),
    };
    let http = tokio::runtime::Runtime::new().unwrap();
    let receiver = http.block_on(Receiver::start(vec![], Reply::Status(200)));
    let hook = receiver.url("/hook");
    let home = home_with(HOSTS);
    config(home.path(), &am.url(), &hook);
    let now = OffsetDateTime::now_utc();
    let starts = now - time::Duration::minutes(1);
    post(&am, &disk_alert(starts, now + time::Duration::hours(1)));

    let incident = wait_for(home.path(), &[], "from Alertmanager", |v| {
        v["source"] == "alertmanager"
    });
    assert_eq!(incident["hosts"], json!(["web01"]), "{incident}");
    assert_eq!(incident["severity"], "critical");
    assert_eq!(incident["title"], "disk almost full on web01");
    assert_eq!(incident["state"], "open");
    assert_eq!(incident["labels"]["alertname"], "DiskFull");
    let id = incident["id"].as_str().unwrap().to_string();

    // Alertmanager unreachable: the ack is refused and nothing is written.
    let book = home.path().join("data/incidents.jsonl");
    let before = fs::read(&book).unwrap();
    let dead = format!("http://127.0.0.1:{}", support::free_port().unwrap());
    config(home.path(), &dead, &hook);
    let out = fleetdeck(home.path())
        .args(["incidents", "ack", &id, "--comment", "on it"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nothing was acknowledged"), "{stderr}");
    assert!(stderr.contains("127.0.0.1"), "{stderr}");
    assert_eq!(
        fs::read(&book).unwrap(),
        before,
        "a refused ack wrote to the book"
    );
    // Listing with Alertmanager down still lists, with a warning.
    let out = fleetdeck(home.path()).args(["incidents"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning"));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id));

    // Reachable: a silence of the alert's labels, made by this user, with the comment.
    config(home.path(), &am.url(), &hook);
    let out = fleetdeck(home.path())
        .args(["incidents", "ack", &id, "--comment", "on it"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = silences(&am);
    let silence = listed
        .iter()
        .find(|s| s["comment"] == "on it")
        .unwrap_or_else(|| panic!("no silence with the comment: {listed:#?}"));
    let matchers = silence["matchers"].as_array().unwrap();
    assert!(
        matchers
            .iter()
            .any(|m| m["name"] == "alertname" && m["value"] == "DiskFull" && m["isEqual"] == true),
        "{silence}"
    );
    assert!(
        silence["createdBy"].as_str().unwrap().contains('@'),
        "{silence}"
    );
    let acked = wait_for(home.path(), &["--offline"], "acked", |v| {
        v["id"] == id.as_str()
    });
    assert_eq!(acked["state"], "acked");
    let shown = fleetdeck(home.path())
        .args(["incidents", "show", &id])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).contains("Alertmanager silence"));

    // The alert ends: the incident resolves.
    post(
        &am,
        &disk_alert(
            starts,
            OffsetDateTime::now_utc() - time::Duration::seconds(1),
        ),
    );
    let resolved = wait_for(home.path(), &["--all"], "resolved", |v| {
        v["id"] == id.as_str() && v["state"] == "resolved"
    });
    assert_eq!(resolved["source"], "alertmanager");

    // Each step told once, by the process that wrote it (the refused ack told nobody).
    let told: Vec<Value> = http
        .block_on(receiver.wait_for(3))
        .iter()
        .map(|r| r.json())
        .collect();
    let events: Vec<&str> = told.iter().map(|v| v["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["opened", "acked", "resolved"], "{told:#?}");
    assert!(
        told.iter()
            .all(|v| v["id"] == id.as_str() && v["hosts"] == json!(["web01"]))
    );
    assert_eq!(
        told[1]["comment"],
        "on it (Alertmanager silence {})".replace("{}", silence["id"].as_str().unwrap())
    );
}
