//! The agent transport against real `fleetdeck agent` processes on 127.0.0.1 (TLS with pinned
//! certificates): output and exit codes, timeouts, cancel, pinning, tokens, a killed agent,
//! reconnects, alerts; directly through `AgentTransport` and through `fleetdeck run`.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fleetdeck::inventory::Host;
use fleetdeck::transport::agent::{AgentConnection, AgentTransport};
use fleetdeck::transport::{ErrorKind, ExecEvent, ExecSpec, ExitOutcome, Transport};
use support::agent::{Agent, host_for};
use support::sshd::{FleetOptions, SshdFleet, sshd_or_skip};

const BIN: &str = env!("CARGO_BIN_EXE_fleetdeck");
/// Upper bound for anything a test waits for (never asserted as a duration).
const PATIENCE: Duration = Duration::from_secs(30);

struct Outcome {
    stdout: String,
    stderr: String,
    pid: Option<u32>,
    end: ExecEvent,
}

async fn collect(t: &AgentTransport, host: &Host, spec: ExecSpec) -> Outcome {
    let mut handle = t.exec(host, spec);
    drain(&mut handle.events).await
}

async fn drain(events: &mut tokio::sync::mpsc::Receiver<ExecEvent>) -> Outcome {
    let (mut out, mut err, mut pid) = (Vec::new(), Vec::new(), None);
    loop {
        let ev = tokio::time::timeout(PATIENCE, events.recv())
            .await
            .expect("the transport answers in time")
            .expect("a terminal event before the channel closes");
        match ev {
            ExecEvent::Stdout(b) => out.extend(b),
            ExecEvent::Stderr(b) => err.extend(b),
            ExecEvent::Started { pid: p } => pid = p,
            ExecEvent::Connecting => {}
            end => {
                return Outcome {
                    stdout: String::from_utf8_lossy(&out).into(),
                    stderr: String::from_utf8_lossy(&err).into(),
                    pid,
                    end,
                };
            }
        }
    }
}

fn transport(dir: &Path) -> AgentTransport {
    AgentTransport::new(dir, "tester@agent-transport")
}

fn failed_kind(end: &ExecEvent) -> (ErrorKind, String) {
    match end {
        ExecEvent::Failed(e) => (e.kind, e.message.clone()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_exit_codes_stdin_env_and_cwd() {
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(&dir.path().join("a1"), "a1", "");
    let t = transport(dir.path());
    let host = agent.host("a1");

    let got = collect(&t, &host, ExecSpec::new("echo hi; echo oops >&2; exit 3")).await;
    assert_eq!(got.stdout, "hi\n");
    assert_eq!(got.stderr, "oops\n");
    assert_eq!(got.end, ExecEvent::Exited(ExitOutcome::Code { code: 3 }));
    assert!(got.pid.is_some(), "the agent reports the pid");

    let mut spec = ExecSpec::new("read line; echo \"$line $GREETING $(pwd)\"");
    spec.stdin = Some(b"secret-value\n".to_vec());
    spec.env = vec![("GREETING".into(), "hello".into())];
    spec.cwd = Some("/tmp".into());
    let got = collect(&t, &host, spec).await;
    assert_eq!(got.stdout, "secret-value hello /tmp\n");
    assert_eq!(got.end, ExecEvent::Exited(ExitOutcome::Code { code: 0 }));

    let got = collect(&t, &host, ExecSpec::new("exit 0")).await;
    assert_eq!(got.end, ExecEvent::Exited(ExitOutcome::Code { code: 0 }));

    // Several jobs at once share the one connection.
    let mut handles: Vec<_> = (0..5)
        .map(|i| t.exec(&host, ExecSpec::new(format!("sleep 0.2; echo job{i}"))))
        .collect();
    for (i, h) in handles.iter_mut().enumerate() {
        let got = drain(&mut h.events).await;
        assert_eq!(got.stdout, format!("job{i}\n"));
        assert_eq!(got.end, ExecEvent::Exited(ExitOutcome::Code { code: 0 }));
    }
    assert_eq!(t.connection("a1"), AgentConnection::Connected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_and_idle_timeouts_kill_the_remote_command() {
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(&dir.path().join("a1"), "a1", "");
    let t = transport(dir.path());
    let host = agent.host("a1");

    let mut spec = ExecSpec::new("sleep 30");
    spec.timeout = Some(Duration::from_millis(500));
    let got = collect(&t, &host, spec).await;
    assert!(
        matches!(got.end, ExecEvent::Exited(ExitOutcome::TimedOut { .. })),
        "{:?}",
        got.end
    );
    let pid = got.pid.expect("pid");
    wait_gone(pid).await;

    let mut spec = ExecSpec::new("echo start; sleep 30");
    spec.idle_timeout = Some(Duration::from_millis(500));
    let got = collect(&t, &host, spec).await;
    assert_eq!(got.stdout, "start\n");
    assert!(
        matches!(got.end, ExecEvent::Exited(ExitOutcome::IdleTimedOut { .. })),
        "{:?}",
        got.end
    );
}

async fn wait_gone(pid: u32) {
    let start = Instant::now();
    while alive(pid) {
        assert!(
            start.elapsed() < PATIENCE,
            "remote process {pid} still runs"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_kills_the_remote_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(&dir.path().join("a1"), "a1", "");
    let t = transport(dir.path());
    let host = agent.host("a1");
    let child_pid_file = dir.path().join("bg.pid");

    let mut handle = t.exec(
        &host,
        ExecSpec::new(format!(
            "sleep 60 & echo $! > {}; echo ready; wait",
            child_pid_file.display()
        )),
    );
    let mut pid = None;
    loop {
        let ev = tokio::time::timeout(PATIENCE, handle.events.recv())
            .await
            .unwrap()
            .unwrap();
        match ev {
            ExecEvent::Started { pid: p } => pid = p,
            ExecEvent::Stdout(b) if String::from_utf8_lossy(&b).contains("ready") => break,
            ExecEvent::Connecting | ExecEvent::Stdout(_) | ExecEvent::Stderr(_) => {}
            other => panic!("ended early: {other:?}"),
        }
    }
    let background: u32 = std::fs::read_to_string(&child_pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(alive(background));
    handle.cancel.cancel();
    let got = drain(&mut handle.events).await;
    assert_eq!(got.end, ExecEvent::Exited(ExitOutcome::Cancelled));
    wait_gone(pid.expect("pid")).await;
    wait_gone(background).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_mismatch_is_refused_with_both_fingerprints() {
    let dir = tempfile::tempdir().unwrap();
    let a1 = Agent::start(&dir.path().join("a1"), "a1", "");
    let a2 = Agent::start(&dir.path().join("a2"), "a2", "");
    let t = transport(dir.path());
    // a1's address with a2's pin: what an impostor at a1's address looks like.
    let host = host_for("a1", &a1.url, &a1.token(), Some(a2.fingerprint()));
    let got = collect(&t, &host, ExecSpec::new("echo never")).await;
    let (kind, message) = failed_kind(&got.end);
    assert_eq!(kind, ErrorKind::HostKey);
    assert!(message.contains(&a1.fingerprint()), "{message}");
    assert!(message.contains(&a2.fingerprint()), "{message}");
    assert!(got.stdout.is_empty());

    // No pin on wss: refused before connecting, saying how to get one.
    let host = host_for("a1", &a1.url, &a1.token(), None);
    let (kind, message) = failed_kind(&collect(&t, &host, ExecSpec::new("true")).await.end);
    assert_eq!(kind, ErrorKind::HostKey);
    assert!(message.contains("fleetdeck agent init"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_problems_are_auth_errors() {
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(&dir.path().join("a1"), "a1", "");
    let t = transport(dir.path());

    let wrong = dir.path().join("wrong.token");
    std::fs::write(&wrong, "not-the-token\n").unwrap();
    let host = host_for("a1", &agent.url, &wrong, Some(agent.fingerprint()));
    let (kind, message) = failed_kind(&collect(&t, &host, ExecSpec::new("true")).await.end);
    assert_eq!(kind, ErrorKind::Auth, "{message}");
    assert!(message.contains("wrong.token"), "{message}");
    assert!(
        !message.contains("not-the-token"),
        "the token never shows: {message}"
    );

    // Relative token paths start at the transport's base folder (hosts.toml's folder).
    let host = host_for(
        "a1",
        &agent.url,
        Path::new("missing.token"),
        Some(agent.fingerprint()),
    );
    let (kind, message) = failed_kind(&collect(&t, &host, ExecSpec::new("true")).await.end);
    assert_eq!(kind, ErrorKind::Auth);
    assert!(
        message.contains(&dir.path().join("missing.token").display().to_string()),
        "{message}"
    );

    // A read token connects but may not run anything.
    let host = host_for(
        "a1",
        &agent.url,
        &agent.dir.join("read.token"),
        Some(agent.fingerprint()),
    );
    let (kind, message) = failed_kind(&collect(&t, &host, ExecSpec::new("true")).await.end);
    assert_eq!(kind, ErrorKind::Auth, "{message}");

    // Fixing the token file takes effect on the next job.
    std::fs::copy(agent.token(), &wrong).unwrap();
    let host = host_for("a1", &agent.url, &wrong, Some(agent.fingerprint()));
    let got = collect(&t, &host, ExecSpec::new("echo ok")).await;
    assert_eq!(got.stdout, "ok\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_agent_fails_its_jobs_and_a_later_job_reconnects() {
    let dir = tempfile::tempdir().unwrap();
    let mut agent = Agent::start(&dir.path().join("a1"), "a1", "");
    let t = transport(dir.path());
    let host = agent.host("a1");

    let mut handle = t.exec(&host, ExecSpec::new("echo up; sleep 60"));
    loop {
        match tokio::time::timeout(PATIENCE, handle.events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            ExecEvent::Stdout(_) => break,
            ExecEvent::Connecting | ExecEvent::Started { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    let port = agent.port();
    agent.kill();
    let got = drain(&mut handle.events).await;
    let (kind, message) = failed_kind(&got.end);
    assert_eq!(kind, ErrorKind::Io);
    assert!(message.contains("connection lost"), "{message}");

    // While the agent is down, a job fails as unreachable instead of hanging.
    let mut spec = ExecSpec::new("true");
    spec.connect_timeout = Duration::from_secs(2);
    let (kind, _) = failed_kind(&collect(&t, &host, spec).await.end);
    assert!(kind.is_unreachable(), "{kind:?}");

    agent.run(&format!("127.0.0.1:{port}"));
    let got = collect(&t, &host, ExecSpec::new("echo back")).await;
    assert_eq!(got.stdout, "back\n");
    assert_eq!(got.end, ExecEvent::Exited(ExitOutcome::Code { code: 0 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_keep_the_latest_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(&dir.path().join("a1"), "a1", "");
    let t = transport(dir.path());
    t.watch(&agent.host("a1")).unwrap();
    let start = Instant::now();
    // The first heartbeat may come before the agent's first sample.
    let metrics = loop {
        if let Some(m) = t.latest_metrics("a1")
            && m.metrics.mem_total_bytes > 0
        {
            break m;
        }
        assert!(start.elapsed() < PATIENCE, "no heartbeat arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(metrics.metrics.mem_total_bytes > 0, "{metrics:?}");
    assert!(t.latest_metrics("nobody").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_delivered_once_across_reconnects() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    let watcher = format!(
        "[[watchers]]\nname = \"app-errors\"\nkind = \"log\"\npath = \"{}\"\npattern = \
         \"ERROR\"\ninterval = \"100ms\"\n",
        log.display()
    );
    let mut agent = Agent::start(&dir.path().join("a1"), "a1", &watcher);
    let t = transport(dir.path());
    let mut alerts = t.subscribe_alerts();
    t.watch(&agent.host("a1")).unwrap();
    // Let the watcher see the (empty) file before anything is written to it.
    wait_connected(&t, "a1").await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut got = Vec::new();
    append(&log, "ERROR first\n");
    alerts_until(&mut alerts, &mut got, "ERROR first").await;

    // The agent restarts: what was acknowledged is not delivered again, what is new is.
    let port = agent.port();
    agent.stop();
    agent.run(&format!("127.0.0.1:{port}"));
    wait_connected(&t, "a1").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    append(&log, "ERROR second\n");
    alerts_until(&mut alerts, &mut got, "ERROR second").await;
    // A few heartbeats: a repeat (or a resolution) would have arrived by then.
    tokio::time::sleep(Duration::from_secs(3)).await;
    while let Ok(a) = alerts.try_recv() {
        got.push(a);
    }
    let seqs: Vec<u64> = got.iter().map(|a| a.alert.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "each alert once, in order: {got:#?}"
    );
    for line in ["ERROR first", "ERROR second"] {
        let raised = got
            .iter()
            .filter(|a| !a.alert.resolved && a.alert.detail.as_deref() == Some(line))
            .count();
        assert_eq!(raised, 1, "{line}: {got:#?}");
    }
    assert!(
        got.iter()
            .all(|a| a.host == "a1" && a.alert.watcher == "app-errors")
    );

    // Everything was acknowledged: this console, reconnecting as a new process would (a new
    // transport, same consumer name), gets nothing again.
    t.shutdown();
    let t2 = transport(dir.path());
    let mut alerts2 = t2.subscribe_alerts();
    t2.watch(&agent.host("a1")).unwrap();
    wait_connected(&t2, "a1").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = alerts2.try_recv();
    assert!(again.is_err(), "nothing twice: {again:?} after {got:#?}");
}

/// Receives alerts into `got` until one whose detail is `line`.
async fn alerts_until(
    rx: &mut tokio::sync::mpsc::Receiver<fleetdeck::transport::agent::AgentAlert>,
    got: &mut Vec<fleetdeck::transport::agent::AgentAlert>,
    line: &str,
) {
    loop {
        let a = next_alert(rx).await;
        let found = a.alert.detail.as_deref() == Some(line);
        got.push(a);
        if found {
            return;
        }
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

async fn next_alert(
    rx: &mut tokio::sync::mpsc::Receiver<fleetdeck::transport::agent::AgentAlert>,
) -> fleetdeck::transport::agent::AgentAlert {
    tokio::time::timeout(PATIENCE, rx.recv())
        .await
        .expect("an alert in time")
        .expect("the alert channel is open")
}

async fn wait_connected(t: &AgentTransport, host: &str) {
    let start = Instant::now();
    while t.connection(host) != AgentConnection::Connected {
        assert!(
            start.elapsed() < PATIENCE,
            "not connected: {:?}",
            t.connection(host)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `fleetdeck run` on agent hosts: the same output, exit codes and records as over SSH.
#[test]
fn fleetdeck_run_on_agent_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let a1 = Agent::start(&dir.path().join("a1"), "a1", "");
    let a2 = Agent::start(&dir.path().join("a2"), "a2", "");
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join("config")).unwrap();
    // a2's token given relative to the config folder, as a user would write it.
    std::fs::copy(a2.token(), home.join("config").join("a2.token")).unwrap();
    let hosts = format!(
        "[[hosts]]\nname = \"a1\"\ntransport = \"agent\"\nenv = \"prod\"\nagent = {{ url = \"{}\", \
         token_file = \"{}\", fingerprint = \"{}\" }}\n\n[[hosts]]\nname = \"a2\"\ntransport = \
         \"agent\"\nagent = {{ url = \"{}\", token_file = \"a2.token\", fingerprint = \"{}\" }}\n",
        a1.url,
        a1.token().display(),
        a1.fingerprint(),
        a2.url,
        a2.fingerprint()
    );
    std::fs::write(home.join("config/hosts.toml"), &hosts).unwrap();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("--home")
            .arg(&home)
            .arg("run")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["-t", "all", "--yes", "--", "echo hi"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["a1", "a2"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("{name}:")) && l.ends_with(" hi")),
            "{stdout}"
        );
    }

    let out = run(&["-t", "a1", "--yes", "--", "echo bad >&2; exit 4"]);
    assert_eq!(out.status.code(), Some(1));

    // A wrong pin on one host: that host is unreachable (exit 3), the other still runs.
    let tampered = hosts.replacen(&a1.fingerprint(), &a2.fingerprint(), 1);
    std::fs::write(home.join("config/hosts.toml"), tampered).unwrap();
    let out = run(&["-t", "all", "--yes", "--", "echo hi"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(
        all.lines()
            .any(|l| l.starts_with("a2:") && l.ends_with(" hi")),
        "{all}"
    );
    assert!(all.contains("hostkey"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_websocket_on_loopback_for_demos() {
    let dir = tempfile::tempdir().unwrap();
    let mut agent = Agent::start(&dir.path().join("a1"), "a1", "");
    agent.kill();
    agent.run_with("127.0.0.1:0", &["--insecure-plaintext"]);
    assert!(agent.url.starts_with("ws://127.0.0.1:"), "{}", agent.url);
    let t = transport(dir.path());
    // No pin needed (nothing to pin) on loopback.
    let host = host_for("a1", &agent.url, &agent.token(), None);
    let got = collect(&t, &host, ExecSpec::new("echo plain")).await;
    assert_eq!(got.stdout, "plain\n");

    // wss:// to a plain agent fails the TLS handshake as unreachable, with a hint.
    let wss = agent.url.replacen("ws://", "wss://", 1);
    let host = host_for("a1", &wss, &agent.token(), Some(agent.fingerprint()));
    let (kind, message) = failed_kind(&collect(&t, &host, ExecSpec::new("true")).await.end);
    assert!(kind.is_unreachable(), "{kind:?}: {message}");
}

/// A host that accepts TCP but never answers (hung machine, black-holed proxy): the connect
/// timeout holds on the client side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_hits_the_connect_timeout() {
    let dir = tempfile::tempdir().unwrap();
    // Bound and listening, never accepted: the kernel completes TCP, nothing speaks TLS.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let token = dir.path().join("t.token");
    std::fs::write(&token, "whatever\n").unwrap();
    let fp = format!("sha256:{}", "ab".repeat(32));
    let host = host_for("hung", &format!("wss://127.0.0.1:{port}"), &token, Some(fp));
    let t = transport(dir.path());
    let mut spec = ExecSpec::new("true");
    spec.connect_timeout = Duration::from_millis(500);
    let (kind, message) = failed_kind(&collect(&t, &host, spec).await.end);
    assert_eq!(kind, ErrorKind::Timeout, "{message}");

    // Cancelling while connecting ends the job as cancelled at once.
    let mut spec = ExecSpec::new("true");
    spec.connect_timeout = Duration::from_secs(60);
    let mut handle = t.exec(&host, spec);
    assert_eq!(handle.events.recv().await, Some(ExecEvent::Connecting));
    handle.cancel.cancel();
    let got = drain(&mut handle.events).await;
    assert_eq!(got.end, ExecEvent::Exited(ExitOutcome::Cancelled));

    // A job with a longer connect timeout that joins a shorter job's attempt does not inherit
    // that attempt's timeout: it waits for an attempt of its own.
    let host = host_for(
        "hung2",
        &format!("wss://127.0.0.1:{port}"),
        &token,
        Some(format!("sha256:{}", "cd".repeat(32))),
    );
    let mut short = ExecSpec::new("true");
    short.connect_timeout = Duration::from_millis(300);
    let mut first = t.exec(&host, short);
    assert_eq!(first.events.recv().await, Some(ExecEvent::Connecting));
    // Let the short attempt get under way before the long job joins it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut long = ExecSpec::new("true");
    long.connect_timeout = Duration::from_secs(60);
    let mut second = t.exec(&host, long);
    assert_eq!(second.events.recv().await, Some(ExecEvent::Connecting));
    let (kind, message) = failed_kind(&drain(&mut first.events).await.end);
    assert_eq!(kind, ErrorKind::Timeout, "{message}");
    second.cancel.cancel();
    let got = drain(&mut second.events).await;
    assert_eq!(got.end, ExecEvent::Exited(ExitOutcome::Cancelled));
    drop(listener);
}

/// One command across SSH (the harness's sshd), agent and local hosts: one run, one outcome.
#[test]
fn one_run_across_ssh_agent_and_local_hosts() {
    if !sshd_or_skip("one_run_across_ssh_agent_and_local_hosts") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 2,
        ..FleetOptions::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(&dir.path().join("a1"), "a1", "");
    let extra = format!(
        "\n[[hosts]]\nname = \"a1\"\ntransport = \"agent\"\nagent = {{ url = \"{}\", token_file \
         = \"{}\", fingerprint = \"{}\" }}\n\n[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n",
        agent.url,
        agent.token().display(),
        agent.fingerprint()
    );
    let home = support::cli::ssh_home(&fleet, &extra);
    let config = fleet.ssh_config_path().display().to_string();
    let out = support::cli::run(
        home.path(),
        &[
            "run",
            "--ssh-config",
            &config,
            "-t",
            "all",
            "--yes",
            "--gather",
            "--",
            "echo same",
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // Identical output from all four hosts folds into one block under their node set.
    assert!(out.stdout.contains("same"), "{}", out.stdout);
    assert_eq!(out.stdout.matches("same").count(), 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("a1,h[001-002],lab1 (4)"),
        "{}",
        out.stdout
    );
}
