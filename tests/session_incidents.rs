//! The console's session feeding the incident book from `[[thresholds]]`, with a real
//! `fleetdeck agent` whose heartbeats are the samples: a breach opens an incident on the
//! host; a later session whose threshold that host no longer breaches clears it at the first
//! fresh sample (the evaluator, starting afresh, would never report it cleared itself).

mod support;

use std::time::{Duration, Instant};

use fleetdeck::config::{Home, Settings};
use fleetdeck::engine::{FleetSession, SessionOptions};
use fleetdeck::incident::{Book, Incident, Source, State};
use fleetdeck::inventory::load;
use support::agent::Agent;
use support::engine::home_at;

/// Liveness bound (never a speed assertion).
const PATIENCE: Duration = Duration::from_secs(60);

fn settings(limit: u32) -> Settings {
    let text = format!(
        "[[thresholds]]\nname = \"memory in use\"\nmetric = \"mem\"\nabove = {limit}\nfor = \"0s\"\n\
         severity = \"critical\"\n"
    );
    match toml::from_str(&text) {
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
            watch_agents: true,
            collect_metrics: true,
            record_incidents: true,
            ..SessionOptions::new(hosts)
        },
    )
    .unwrap()
}

/// Waits (bounded) for the book's incident from the threshold on a1 to satisfy `want`.
async fn until_incident(home: &Home, what: &str, want: impl Fn(&Incident) -> bool) -> Incident {
    let start = Instant::now();
    loop {
        if let Ok(book) = Book::for_home(home, &Settings::default().store)
            && let Some(i) = book
                .list(true)
                .into_iter()
                .find(|i| i.source == Source::Threshold && i.fingerprint == "memory in use/a1")
            && want(i)
        {
            return i.clone();
        }
        assert!(start.elapsed() < PATIENCE, "no threshold incident {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_threshold_breach_opens_an_incident_and_a_later_session_clears_it() {
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(&dir.path().join("a1"), "a1", "");
    let home = home_at(&dir.path().join("home"), &agent.hosts_entry("a1"));

    // Memory in use is above 0 on any machine: the first sample breaches it.
    let session = open(&home, &settings(0));
    let opened = until_incident(&home, "opened", |i| i.state == State::Open).await;
    assert_eq!(opened.hosts, ["a1"]);
    assert_eq!(opened.title, "memory in use");
    assert_eq!(opened.labels.get("metric").map(String::as_str), Some("mem"));
    session.shutdown(Duration::from_secs(2)).await;

    // Above 100 is never breached: the open incident clears at the first fresh sample.
    let session = open(&home, &settings(100));
    let cleared = until_incident(&home, "resolved", |i| i.state == State::Resolved).await;
    assert_eq!(cleared.id, opened.id);
    session.shutdown(Duration::from_secs(2)).await;
}
