//! The fleet session's transports against a real OpenSSH sshd (tests/support/sshd.rs): runs
//! submitted the way the console submits them (`FleetSession` + `run_task::submit_run`), so a
//! second run reuses the pooled connections, connection states are reported per host, shutting
//! down says goodbye to every server, and an encrypted key's passphrase is asked once through
//! the session's requests.

mod support;

use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fleetdeck::config::{Home, Settings};
use fleetdeck::engine::launch::SshFlags;
use fleetdeck::engine::session::passphrase::Passphrases;
use fleetdeck::engine::{
    ConnState, ENGINE_CHANNEL, EngineEvent, FleetSession, FleetSnapshot, HostState, RunResult,
    SessionOptions, new_run_id,
};
use fleetdeck::inventory::{Host, load};
use fleetdeck::ui::app::run_task::submit_run;
use fleetdeck::ui::app::runs::RunStart;
use support::cli::{count_in_log, encrypted_key_ssh_config, ssh_home};
use support::sshd::{ENCRYPTED_KEY_PASSPHRASE, FleetOptions, SshdFleet, sshd_or_skip};
use tokio::sync::mpsc;

const HOSTS: usize = 3;
/// Liveness bound for one run (never a speed assertion).
const RUN_BOUND: Duration = Duration::from_secs(120);

fn fleet() -> SshdFleet {
    SshdFleet::start(FleetOptions {
        hosts: HOSTS,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("starting the sshd fleet: {e}"))
}

/// A session over the fleet, as `fleetdeck tui --ssh-config FILE` opens one. Inside the
/// runtime.
fn console(home: &Home, ssh_config: &Path, fleet: &SshdFleet) -> (FleetSession, Vec<Host>) {
    let flags = SshFlags {
        ssh_config: Some(ssh_config.to_path_buf()),
        known_hosts: vec![fleet.known_hosts_path().to_path_buf()],
        accept_new: false,
    };
    session_with(home, flags)
}

fn session_with(home: &Home, ssh: SshFlags) -> (FleetSession, Vec<Host>) {
    let hosts = load::load(&home.hosts_file()).unwrap().hosts().to_vec();
    let options = SessionOptions {
        ssh,
        passphrases: Passphrases::Requests,
        ..SessionOptions::new(hosts.clone())
    };
    let session = FleetSession::open_tolerant(home, &Settings::default(), options);
    (session, hosts)
}

/// One run as the console's loop submits it; waits (bounded) for its result.
async fn console_run(session: &FleetSession, home: &Home, hosts: &[Host]) -> RunResult {
    let start = RunStart {
        id: new_run_id(),
        hosts: hosts.to_vec(),
        selector: "all".into(),
        command: "echo hi from $(hostname)".into(),
        prepared: None,
        rerun_of: None,
        for_incidents: Vec::new(),
    };
    let (tx, mut rx) = mpsc::channel(ENGINE_CHANNEL);
    submit_run(home, &Settings::default(), start, session, tx).unwrap();
    let deadline = Instant::now() + RUN_BOUND;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (_, event) = tokio::time::timeout(left, rx.recv())
            .await
            .expect("the run went quiet")
            .expect("the run ended without RunFinished");
        if let EngineEvent::RunFinished { result } = event {
            return *result;
        }
    }
}

fn pooled(snap: &FleetSnapshot) -> usize {
    count(snap, |s| matches!(s, ConnState::Connected))
}

fn failed(snap: &FleetSnapshot) -> usize {
    count(snap, |s| matches!(s, ConnState::Failed { .. }))
}

fn count(snap: &FleetSnapshot, pred: impl Fn(&ConnState) -> bool) -> usize {
    snap.connections.values().filter(|s| pred(s)).count()
}

fn all_ok(result: &RunResult) {
    for h in &result.hosts {
        assert_eq!(h.state, HostState::Ok, "{}: {:?}", h.host, h.state);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_console_run_reuses_the_pooled_connections() {
    if !sshd_or_skip("a_second_console_run_reuses_the_pooled_connections") {
        return;
    }
    let fleet = fleet();
    let dir = ssh_home(
        &fleet,
        "\n[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n",
    );
    let home = Home::under(dir.path());
    let (session, hosts) = console(&home, fleet.ssh_config_path(), &fleet);

    // Before any run: nothing connected, local hosts say so.
    let before = session.snapshot();
    assert_eq!(before.problem, None);
    assert_eq!(before.connections.get("h001"), Some(&ConnState::Closed));
    assert_eq!(before.connections.get("lab1"), Some(&ConnState::Local));
    assert_eq!(pooled(&before), 0);

    let first = console_run(&session, &home, &hosts).await;
    all_ok(&first);
    assert_eq!(count_in_log(&fleet, "Accepted publickey"), HOSTS);
    let warm = session.snapshot();
    assert_eq!(pooled(&warm), HOSTS, "{warm:?}");
    assert_eq!(warm.connections.get("h002"), Some(&ConnState::Connected));
    assert_eq!(warm.connections.get("lab1"), Some(&ConnState::Local));
    // Both runs' results are in the picture readers see.
    let second = console_run(&session, &home, &hosts).await;
    all_ok(&second);
    // One login per host across both runs: the second run made no new connection.
    assert_eq!(
        count_in_log(&fleet, "Accepted publickey"),
        HOSTS,
        "{}",
        fleet.log_tail(30)
    );
    assert_eq!(session.connections_made(), HOSTS);
    let recent: Vec<_> = session
        .reader()
        .snapshot()
        .recent
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(recent, [first.id.clone(), second.id.clone()]);

    // Quitting says goodbye to every server (sshd logs the client's disconnect message).
    assert!(session.shutdown(Duration::from_secs(10)).await);
    let deadline = Instant::now() + Duration::from_secs(10);
    while count_in_log(&fleet, "fleetdeck is done") < HOSTS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        count_in_log(&fleet, "fleetdeck is done"),
        HOSTS,
        "{}",
        fleet.log_tail(30)
    );
    let after = session.snapshot();
    assert_eq!(pooled(&after), 0, "{after:?}");
    assert_eq!(after.connections.get("h003"), Some(&ConnState::Closed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_and_the_next_run_reconnects() {
    if !sshd_or_skip("idle_connections_are_closed_and_the_next_run_reconnects") {
        return;
    }
    let fleet = fleet();
    let dir = ssh_home(&fleet, "");
    let home = Home::under(dir.path());
    let (session, hosts) = console(&home, fleet.ssh_config_path(), &fleet);
    all_ok(&console_run(&session, &home, &hosts).await);
    assert_eq!(pooled(&session.snapshot()), HOSTS);
    let closed = tokio::time::timeout(RUN_BOUND, session.close_idle(Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(closed, HOSTS);
    let snap = session.snapshot();
    assert_eq!(pooled(&snap), 0, "{snap:?}");
    assert_eq!(snap.connections.get("h001"), Some(&ConnState::Closed));
    // Closed for good: the next run logs in again.
    all_ok(&console_run(&session, &home, &hosts).await);
    assert_eq!(count_in_log(&fleet, "Accepted publickey"), 2 * HOSTS);
    assert_eq!(session.connections_made(), 2 * HOSTS);
    session.shutdown(Duration::from_secs(10)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_connections_are_reported_with_their_kind() {
    if !sshd_or_skip("failed_connections_are_reported_with_their_kind") {
        return;
    }
    let fleet = fleet();
    let dir = ssh_home(&fleet, "");
    let home = Home::under(dir.path());
    // Trust no host key: every host fails at the host-key check.
    let config = dir.path().join("ssh_config_untrusted");
    let text = fs::read_to_string(fleet.ssh_config_path())
        .unwrap()
        .replace(
            &format!("UserKnownHostsFile {}", fleet.known_hosts_path().display()),
            "UserKnownHostsFile /dev/null",
        );
    fs::write(&config, text).unwrap();
    let (session, hosts) = session_with(
        &home,
        SshFlags {
            ssh_config: Some(config),
            ..Default::default()
        },
    );
    let result = console_run(&session, &home, &hosts).await;
    for h in &result.hosts {
        assert!(
            matches!(h.state, HostState::Unreachable { .. }),
            "{}: {:?}",
            h.host,
            h.state
        );
    }
    let snap = session.snapshot();
    assert_eq!(failed(&snap), HOSTS, "{snap:?}");
    match snap.connections.get("h001") {
        Some(ConnState::Failed { kind, reason }) => {
            assert_eq!(kind.as_str(), "hostkey", "{reason}");
            assert!(reason.contains("h001"), "{reason}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_key_is_asked_for_once_through_the_console() {
    if !sshd_or_skip("an_encrypted_key_is_asked_for_once_through_the_console") {
        return;
    }
    let fleet = fleet();
    let dir = ssh_home(&fleet, "");
    let home = Home::under(dir.path());
    let config = encrypted_key_ssh_config(&fleet, dir.path());
    let (session, hosts) = console(&home, &config, &fleet);
    // The console's loop answers these with the popup; here a task plays the person.
    let mut asks = session.take_passphrase_requests().unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let keys = asked.clone();
    let person = tokio::spawn(async move {
        while let Some(ask) = asks.recv().await {
            keys.lock().unwrap().push(ask.key.clone());
            ask.reply
                .send(Some(ENCRYPTED_KEY_PASSPHRASE.to_string()))
                .unwrap();
        }
    });
    for _ in 0..2 {
        let result = console_run(&session, &home, &hosts).await;
        all_ok(&result);
    }
    // Once, for the file the config names, however many hosts and runs use it.
    assert_eq!(
        *asked.lock().unwrap(),
        [fleet.encrypted_user_key_path().to_path_buf()]
    );
    session.shutdown(Duration::from_secs(10)).await;
    person.abort();
}

/// The warm-run figure: a cold run on 500 loopback hosts, then the same run over the
/// console's pooled connections. Prints the times; asserts only that every host ran.
/// `cargo test --release --test fleet_session_ssh -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --ignored --nocapture"]
async fn measure_cold_and_warm_runs_on_500_hosts() {
    if !sshd_or_skip("measure_cold_and_warm_runs_on_500_hosts") {
        return;
    }
    const N: usize = 500;
    let fleet = SshdFleet::start(FleetOptions {
        hosts: N,
        kex: Some("curve25519-sha256".into()),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("starting the sshd fleet: {e}"));
    let dir = ssh_home(&fleet, "");
    let home = Home::under(dir.path());
    let (session, hosts) = console(&home, fleet.ssh_config_path(), &fleet);
    let started = Instant::now();
    all_ok(&console_run(&session, &home, &hosts).await);
    let cold = started.elapsed();
    let started = Instant::now();
    all_ok(&console_run(&session, &home, &hosts).await);
    let warm = started.elapsed();
    assert_eq!(session.connections_made(), N);
    eprintln!("{N} hosts: cold run {cold:.2?}, warm second run {warm:.2?}");
    session.shutdown(Duration::from_secs(10)).await;
}
