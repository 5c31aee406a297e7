//! Incidents reaching front ends through the session's snapshot: incidents another book
//! instance (another process, as far as the session can tell) writes appear in
//! `FleetSnapshot::incidents` of a session and of a standalone `FleetReader`; acknowledging,
//! noting and resolving through the session write the book (read back by a fresh book).

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fleetdeck::config::{Home, Settings};
use fleetdeck::engine::{FleetReader, FleetSession, IncidentsFrame, SessionOptions};
use fleetdeck::incident::{Book, Observation, Severity, Source, State};
use fleetdeck::inventory::load;
use support::engine::home_at;

/// Liveness bound (never a speed assertion).
const PATIENCE: Duration = Duration::from_secs(30);

const HOSTS: &str = "[[hosts]]\nname = \"web[01-02]\"\ntransport = \"local\"\n";

fn observation(fingerprint: &str, severity: Severity) -> Observation {
    Observation {
        source: Source::Check,
        fingerprint: fingerprint.to_string(),
        title: format!("{fingerprint} failing"),
        severity,
        hosts: vec!["web01".into(), "web02".into()],
        labels: BTreeMap::from([("unit".to_string(), "nginx".to_string())]),
        annotations: BTreeMap::new(),
        firing: true,
        ts: "2026-12-07T10:00:00Z".into(),
    }
}

/// What another process does: its own book on the same file.
fn write_elsewhere(home: &Home, obs: &Observation) {
    let mut book = Book::for_home(home, &Settings::default().store).unwrap();
    book.observe(obs).unwrap();
}

/// Waits (bounded) for `frame()` to satisfy `want`.
async fn until(
    what: &str,
    frame: impl Fn() -> std::sync::Arc<IncidentsFrame>,
    want: impl Fn(&IncidentsFrame) -> bool,
) {
    let start = Instant::now();
    while !want(&frame()) {
        assert!(
            start.elapsed() < PATIENCE,
            "never saw {what}: {:?}",
            frame()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn session(home: &Home) -> FleetSession {
    let hosts = load::load(&home.hosts_file()).unwrap().hosts().to_vec();
    FleetSession::open(
        home,
        &Settings::default(),
        SessionOptions {
            record_incidents: true,
            ..SessionOptions::new(hosts)
        },
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_written_elsewhere_reach_the_snapshot_and_acks_reach_the_book() {
    let dir = tempfile::tempdir().unwrap();
    let home = home_at(dir.path(), HOSTS);
    write_elsewhere(&home, &observation("disk", Severity::Warning));
    let session = session(&home);
    let hosts = session.reader().hosts().to_vec();
    let reader = FleetReader::open(&home, &Settings::default(), hosts);

    until(
        "the first incident",
        || session.snapshot().incidents,
        |f| f.incidents.len() == 1,
    )
    .await;
    write_elsewhere(&home, &observation("nginx", Severity::Critical));
    until(
        "the second incident",
        || session.snapshot().incidents,
        |f| f.incidents.len() == 2 && f.active_by_severity() == [1, 1, 0],
    )
    .await;
    until(
        "both in the reader",
        || reader.snapshot().incidents,
        |f| f.incidents.len() == 2,
    )
    .await;

    let id = session
        .incidents()
        .incidents
        .iter()
        .find(|i| i.fingerprint == "nginx")
        .map(|i| i.id.clone())
        .unwrap();
    let acked = session
        .ack_incident(&id, Some("looking at it"))
        .await
        .unwrap();
    assert_eq!(acked.incident.state, State::Acked);
    assert_eq!(acked.silence, None, "not an Alertmanager incident");
    session
        .note_incident(&id, "restarting nginx")
        .await
        .unwrap();

    let book = Book::for_home(&home, &Settings::default().store).unwrap();
    let written = book.get(&id).unwrap();
    assert_eq!(written.state, State::Acked);
    let texts: Vec<_> = written
        .timeline
        .iter()
        .filter_map(|e| e.text.as_deref())
        .collect();
    assert!(texts.contains(&"looking at it"), "{texts:?}");
    assert!(texts.contains(&"restarting nginx"), "{texts:?}");
    until(
        "the ack in the reader",
        || reader.snapshot().incidents,
        |f| {
            f.incidents
                .iter()
                .any(|i| i.id == id && i.state == State::Acked)
        },
    )
    .await;

    session
        .record_action_run(&id, "01KF3Z5Q8V4W7X9Y2B3C4D5E6F", "ok")
        .await
        .unwrap();
    session.resolve_incident(&id, Some("fixed")).await.unwrap();
    until(
        "the resolution",
        || session.snapshot().incidents,
        |f| {
            f.active_by_severity() == [0, 1, 0]
                && f.incidents
                    .iter()
                    .any(|i| i.id == id && i.state == State::Resolved)
        },
    )
    .await;
    let book = Book::for_home(&home, &Settings::default().store).unwrap();
    let run = book
        .get(&id)
        .unwrap()
        .timeline
        .iter()
        .find(|e| e.event == "action_run");
    assert_eq!(
        run.and_then(|e| e.run_id.as_deref()),
        Some("01KF3Z5Q8V4W7X9Y2B3C4D5E6F")
    );

    // Refused writes say why and write nothing.
    let err = session.ack_incident(&id, None).await.unwrap_err();
    assert!(err.to_string().contains("resolved"), "{err}");
    let err = session.note_incident("zzzz", "x").await.unwrap_err();
    assert!(!err.to_string().is_empty());
    session.shutdown(Duration::from_secs(5)).await;
}
