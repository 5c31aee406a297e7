//! The fleet session and its read-only reader against real `fleetdeck agent` processes
//! (tests/support/agent.rs): one agent alert reaches every consumer in the process (the
//! session, its reader, a standalone reader), a standalone reader contacts agents with read
//! tokens only (never loading an exec token, never contacting a host without a read token)
//! and follows runs other processes record, and a host with only a read token cannot be run
//! on.

mod support;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use fleetdeck::config::{Home, Settings};
use fleetdeck::engine::{ConnState, FleetReader, FleetSession, SessionOptions, Subscription};
use fleetdeck::inventory::load;
use fleetdeck::transport::agent::AgentAlert;
use support::agent::Agent;
use support::cli;

/// Liveness bound (never a speed assertion).
const PATIENCE: Duration = Duration::from_secs(30);

/// A log watcher that raises an alert for every line with ERROR.
fn log_watcher(log: &Path) -> String {
    format!(
        "[[watchers]]\nname = \"app-errors\"\nkind = \"log\"\npath = \"{}\"\npattern = \
         \"ERROR\"\ninterval = \"100ms\"\n",
        log.display()
    )
}

/// A hosts.toml entry for `agent` named `name` with the given token files (`None`: left out).
fn agent_entry(name: &str, agent: &Agent, exec: Option<&Path>, read: Option<&Path>) -> String {
    let mut table = format!(
        "url = \"{}\", fingerprint = \"{}\"",
        agent.url,
        agent.fingerprint()
    );
    if let Some(exec) = exec {
        table.push_str(&format!(", token_file = \"{}\"", exec.display()));
    }
    if let Some(read) = read {
        table.push_str(&format!(", read_token_file = \"{}\"", read.display()));
    }
    format!("[[hosts]]\nname = \"{name}\"\ntransport = \"agent\"\nagent = {{ {table} }}\n\n")
}

fn home_with(dir: &Path, hosts_toml: &str) -> Home {
    let home = Home::under(dir);
    home.ensure_writable_dirs().unwrap();
    fs::create_dir_all(&home.config_dir).unwrap();
    fs::write(home.hosts_file(), hosts_toml).unwrap();
    home
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

async fn until_alert(sub: &mut Subscription<AgentAlert>, detail: &str) -> AgentAlert {
    loop {
        let alert = tokio::time::timeout(PATIENCE, sub.recv())
            .await
            .expect("an alert in time")
            .expect("the feed is open");
        if alert.alert.detail.as_deref() == Some(detail) {
            return alert;
        }
    }
}

async fn until_state(reader: &FleetReader, host: &str, want: impl Fn(&ConnState) -> bool) {
    let start = Instant::now();
    loop {
        let snap = reader.snapshot();
        if snap.connections.get(host).is_some_and(&want) {
            return;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{host}: {:?}",
            snap.connections.get(host)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_and_readers_in_one_process_each_receive_one_agent_alert() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    fs::write(&log, "").unwrap();
    let agent = Agent::start(&dir.path().join("a1"), "a1", &log_watcher(&log));
    let read = agent.dir.join("read.token");
    let home = home_with(
        &dir.path().join("home"),
        &agent_entry("a1", &agent, Some(&agent.token()), Some(&read)),
    );
    let hosts = load::load(&home.hosts_file()).unwrap().hosts().to_vec();
    let settings = Settings::default();
    let session = FleetSession::open(
        &home,
        &settings,
        SessionOptions {
            watch_agents: true,
            ..SessionOptions::new(hosts.clone())
        },
    )
    .unwrap();
    let mut from_session = session.alerts();
    let mut from_reader = session.reader().alerts();
    let standalone = FleetReader::open(&home, &settings, hosts);
    let mut from_standalone = standalone.alerts();
    until_state(&session.reader(), "a1", |s| *s == ConnState::Connected).await;
    until_state(&standalone, "a1", |s| *s == ConnState::Connected).await;
    // Let the watcher see the (empty) file before anything is written to it.
    tokio::time::sleep(Duration::from_millis(500)).await;

    append(&log, "ERROR disk on fire\n");
    let a = until_alert(&mut from_session, "ERROR disk on fire").await;
    let b = until_alert(&mut from_reader, "ERROR disk on fire").await;
    let c = until_alert(&mut from_standalone, "ERROR disk on fire").await;
    assert_eq!(a, b, "the session's consumers see the same alert");
    assert_eq!(a.host, "a1");
    assert_eq!(c.alert.detail, a.alert.detail);
    // A few heartbeats later, none of them got it twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for sub in [&mut from_session, &mut from_reader, &mut from_standalone] {
        while let Some(again) = sub.try_recv() {
            assert_ne!(
                again.alert.detail.as_deref(),
                Some("ERROR disk on fire"),
                "delivered twice: {again:?}"
            );
        }
        assert_eq!(sub.lost(), 0);
    }
    // Heartbeats reach the picture every reader copies.
    let start = Instant::now();
    while !session.reader().snapshot().heartbeats.contains_key("a1") {
        assert!(start.elapsed() < PATIENCE, "no heartbeat in the picture");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(session.shutdown(Duration::from_secs(10)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_reader_uses_read_tokens_only() {
    let dir = tempfile::tempdir().unwrap();
    let a1 = Agent::start(&dir.path().join("a1"), "a1", "");
    let a2 = Agent::start(&dir.path().join("a2"), "a2", "");
    // a1's exec token file does not exist: a reader that loaded it would fail to connect.
    let missing_exec = dir.path().join("no-such-exec.token");
    let mut hosts_toml = agent_entry(
        "a1",
        &a1,
        Some(&missing_exec),
        Some(&a1.dir.join("read.token")),
    );
    // a2 has only an exec token: a reader must not contact it at all.
    hosts_toml.push_str(&agent_entry("a2", &a2, Some(&a2.token()), None));
    hosts_toml.push_str("[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n\n");
    hosts_toml.push_str("[[hosts]]\nname = \"s1\"\naddress = \"127.0.0.1\"\nport = 9\n");
    let home = home_with(&dir.path().join("home"), &hosts_toml);
    let hosts = load::load(&home.hosts_file()).unwrap().hosts().to_vec();
    let reader = FleetReader::open(&home, &Settings::default(), hosts);

    until_state(&reader, "a1", |s| *s == ConnState::Connected).await;
    let snap = reader.snapshot();
    match snap.connections.get("a2") {
        Some(ConnState::Unwatched { reason }) => {
            assert!(reason.contains("no read token"), "{reason}")
        }
        other => panic!("a2 must be shown as not contacted: {other:?}"),
    }
    assert_eq!(snap.connections.get("lab1"), Some(&ConnState::Local));
    // An SSH host is reached only by the fixed metrics probe (nothing listens on port 9).
    assert!(
        matches!(
            snap.connections.get("s1"),
            Some(ConnState::Closed | ConnState::Connecting | ConnState::Failed { .. })
        ),
        "{:?}",
        snap.connections.get("s1")
    );
    assert!(snap.queue.queued.is_empty() && snap.queue.running.is_empty());
    // a2 stays that way: no link was made (one would show connecting, then open).
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        let state = reader.snapshot().connections.get("a2").cloned();
        assert!(
            matches!(&state, Some(ConnState::Unwatched { reason }) if reason.contains("no read token")),
            "{state:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Runs recorded by another process of the same home show up in the reader.
    let out = cli::run(
        &dir.path().join("home"),
        &["run", "-t", "lab1", "--", "echo", "hi"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let start = Instant::now();
    loop {
        let recent = reader.snapshot().recent;
        if let Some(run) = recent.last() {
            assert_eq!(run.targets, "lab1");
            assert_eq!(run.command, "echo hi");
            break;
        }
        assert!(start.elapsed() < PATIENCE, "the run never showed up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn a_host_with_only_a_read_token_cannot_be_run_on() {
    let dir = tempfile::tempdir().unwrap();
    let a1 = Agent::start(&dir.path().join("a1"), "a1", "");
    let home_dir = dir.path().join("home");
    let home = home_with(
        &home_dir,
        &agent_entry("a1", &a1, None, Some(&a1.dir.join("read.token"))),
    );
    // check accepts it: a watch-only host is a valid entry.
    let check = cli::run(&home_dir, &["check"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    let out = cli::fleetdeck(&home_dir)
        .args(["run", "-t", "a1", "--", "touch", "ran"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("no exec token"), "{stderr}");
    assert!(!a1.dir.join("ran").exists() && !dir.path().join("ran").exists());
    drop(home);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_run_leaves_agent_alerts_for_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    fs::write(&log, "").unwrap();
    let agent = Agent::start(&dir.path().join("a1"), "a1", &log_watcher(&log));
    let home_dir = dir.path().join("home");
    let home = home_with(
        &home_dir,
        &agent_entry("a1", &agent, Some(&agent.token()), None),
    );
    // Let the watcher see the (empty) file, raise an alert, and give it time to be journalled.
    tokio::time::sleep(Duration::from_millis(500)).await;
    append(&log, "ERROR while nobody watched\n");
    tokio::time::sleep(Duration::from_secs(1)).await;

    // A one-run CLI session on the host (the same consumer name as a console here) ...
    let out = tokio::task::spawn_blocking(move || {
        cli::run(&home_dir, &["run", "-t", "a1", "--", "true"])
    })
    .await
    .unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr);

    // ... did not take the alert: the console's session still receives it.
    let hosts = load::load(&home.hosts_file()).unwrap().hosts().to_vec();
    let session = FleetSession::open(
        &home,
        &Settings::default(),
        SessionOptions {
            watch_agents: true,
            ..SessionOptions::new(hosts)
        },
    )
    .unwrap();
    let mut alerts = session.alerts();
    let alert = until_alert(&mut alerts, "ERROR while nobody watched").await;
    assert_eq!(alert.host, "a1");
    assert!(session.shutdown(Duration::from_secs(10)).await);
}
