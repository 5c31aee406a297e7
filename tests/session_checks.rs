//! `[[checks]]` run by the console's session (`record_incidents`): an HTTP check against a
//! loopback health endpoint written here (healthy → unhealthy → healthy) opens an incident on
//! the failing host and resolves it, with the host's circuit breaker opening after
//! `[breaker] failures` and closing on the pass; an action check run through the session's
//! queue on a `local` host fails while a file is missing and resolves once it exists.

mod support;

use std::fs;
use std::time::{Duration, Instant};

use fleetdeck::config::{Home, Settings};
use fleetdeck::engine::breaker::BreakerState;
use fleetdeck::engine::checks::{HostCheck, HostResult};
use fleetdeck::engine::{FleetSession, SessionOptions};
use fleetdeck::incident::{Book, Incident, Source, State};
use fleetdeck::inventory::load;
use support::engine::home_at;
use support::health_server::HealthServer;

/// Liveness bound (never a speed assertion).
const PATIENCE: Duration = Duration::from_secs(60);

const LOCAL: &str = "[[hosts]]\nname = \"l1\"\ntransport = \"local\"\n";

fn settings(text: &str) -> Settings {
    match toml::from_str(text) {
        Ok(s) => s,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn open(home: &Home, settings: &Settings) -> FleetSession {
    let hosts = load::load(&home.hosts_file()).unwrap().hosts().to_vec();
    FleetSession::open(
        home,
        settings,
        SessionOptions {
            record_incidents: true,
            ..SessionOptions::new(hosts)
        },
    )
    .unwrap()
}

/// Waits (bounded) for the check incident `fingerprint` to satisfy `want`.
async fn until_incident(
    session: &FleetSession,
    home: &Home,
    fingerprint: &str,
    what: &str,
    want: impl Fn(&Incident) -> bool,
) -> Incident {
    let start = Instant::now();
    loop {
        if let Ok(book) = Book::for_home(home, &Settings::default().store)
            && let Some(i) = book
                .list(true)
                .into_iter()
                .find(|i| i.source == Source::Check && i.fingerprint == fingerprint)
            && want(i)
        {
            return i.clone();
        }
        assert!(
            start.elapsed() < PATIENCE,
            "no check incident {what}; checks: {:?}",
            session.checks().snapshot()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (bounded) for the board's entry of `check` on `host` to satisfy `want`.
async fn until_board(
    session: &FleetSession,
    check: &str,
    host: &str,
    what: &str,
    want: impl Fn(&HostCheck) -> bool,
) -> HostCheck {
    let start = Instant::now();
    loop {
        if let Some(h) = session
            .checks()
            .get(check)
            .and_then(|s| s.hosts.get(host).cloned())
            && want(&h)
        {
            return h;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{check} on {host} never {what}: {:?}",
            session.checks().get(check)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_check_opens_an_incident_opens_its_breaker_and_resolves_on_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let home = home_at(&dir.path().join("home"), LOCAL);
    let server = HealthServer::start(true).await.unwrap();
    let settings = settings(&format!(
        "[breaker]\nfailures = 2\ncooldown = \"2s\"\n\n\
         [[checks]]\nname = \"health\"\nevery = \"1s\"\ntarget = \"l1\"\nseverity = \"critical\"\n\
         http = {{ url = \"http://127.0.0.1:{}/health/{{name}}\", status = 200, \
         body_contains = \"ok\", timeout = \"1s\" }}\n",
        server.port()
    ));
    let session = open(&home, &settings);

    let healthy = until_board(&session, "health", "l1", "passed", |h| {
        h.result == HostResult::Passed
    })
    .await;
    assert_eq!(healthy.breaker, BreakerState::Closed);

    server.set_healthy(false);
    let opened = until_incident(&session, &home, "health/l1", "opened", |i| {
        i.state == State::Open
    })
    .await;
    assert_eq!(opened.hosts, ["l1"]);
    assert_eq!(opened.severity, fleetdeck::incident::Severity::Critical);
    assert_eq!(
        opened.labels.get("check").map(String::as_str),
        Some("health")
    );
    assert_eq!(opened.labels.get("kind").map(String::as_str), Some("http"));
    let error = opened.annotations.get("error").cloned().unwrap_or_default();
    assert!(error.contains("status 500, expected 200"), "{error}");

    // Two failures open the breaker: the host is skipped, its failure stands.
    let open_breaker = until_board(&session, "health", "l1", "opened its breaker", |h| {
        h.breaker == BreakerState::Open
    })
    .await;
    assert!(matches!(open_breaker.result, HostResult::Failed(_)));
    assert!(open_breaker.failures >= 2);

    server.set_healthy(true);
    let resolved = until_incident(&session, &home, "health/l1", "resolved", |i| {
        i.state == State::Resolved
    })
    .await;
    assert_eq!(resolved.id, opened.id);
    assert_eq!(resolved.count, 1, "one failure streak is one firing");
    let closed = until_board(&session, "health", "l1", "passed again", |h| {
        h.result == HostResult::Passed
    })
    .await;
    assert_eq!(closed.breaker, BreakerState::Closed);
    assert!(server.requests() >= 4);
    session.shutdown(Duration::from_secs(2)).await;
}

const PRESENT: &str = r#"
description = "A file exists"
category = "test"
command = "test -e {path} || {{ echo missing: {path} >&2; exit 1; }}"

[[params]]
name = "path"
type = "string"
required = true
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_check_fails_until_its_file_exists() {
    let dir = tempfile::tempdir().unwrap();
    let home = home_at(&dir.path().join("home"), LOCAL);
    fs::create_dir_all(home.actions_dir()).unwrap();
    fs::write(home.actions_dir().join("present.toml"), PRESENT).unwrap();
    let marker = dir.path().join("ready");
    let settings = settings(&format!(
        "[[checks]]\nname = \"ready file\"\nevery = \"1s\"\ntarget = \"l1\"\n\
         action = \"present\"\nparams = {{ path = \"{}\" }}\n",
        marker.display()
    ));
    let session = open(&home, &settings);

    let opened = until_incident(&session, &home, "ready file/l1", "opened", |i| {
        i.state == State::Open
    })
    .await;
    assert_eq!(
        opened.labels.get("kind").map(String::as_str),
        Some("action")
    );
    let error = opened.annotations.get("error").cloned().unwrap_or_default();
    assert!(
        error.contains("exit 1") && error.contains("missing:"),
        "{error}"
    );

    fs::write(&marker, "").unwrap();
    let resolved = until_incident(&session, &home, "ready file/l1", "resolved", |i| {
        i.state == State::Resolved
    })
    .await;
    assert_eq!(resolved.id, opened.id);
    until_board(&session, "ready file", "l1", "passed", |h| {
        h.result == HostResult::Passed
    })
    .await;
    session.shutdown(Duration::from_secs(2)).await;
}
