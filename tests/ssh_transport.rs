//! The SSH transport against a real OpenSSH sshd on 127.0.0.1 (tests/support/sshd.rs), driven
//! directly through `SshTransport`: no mocks. Timeouts here are liveness bounds only.

mod support;

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fleetdeck::inventory::Host;
use fleetdeck::transport::ssh::{SshOptions, SshTransport};
use fleetdeck::transport::{ErrorKind, ExecEvent, ExecHandle, ExecSpec, ExitOutcome, Transport};
use support::sshd::{
    DEFAULT_MAX_STARTUPS, ENCRYPTED_KEY_PASSPHRASE, FleetOptions, SshdFleet, ssh_keygen,
    sshd_or_skip,
};
use tempfile::TempDir;

/// Liveness bound for one command's events (never a performance assertion).
const LIVENESS: Duration = Duration::from_secs(120);

fn start(hosts: usize) -> SshdFleet {
    start_with(FleetOptions {
        hosts,
        kex: Some("curve25519-sha256".into()),
        ..Default::default()
    })
}

fn start_with(opts: FleetOptions) -> SshdFleet {
    SshdFleet::start(opts).unwrap_or_else(|e| panic!("starting the sshd fleet: {e}"))
}

fn options(ssh_config: &Path, state: &TempDir) -> SshOptions {
    SshOptions {
        ssh_config: Some(ssh_config.to_path_buf()),
        extra_known_hosts: Vec::new(),
        fleetdeck_known_hosts: state.path().join("fleetdeck_known_hosts"),
        accept_new: false,
        max_handshakes: 32,
        max_channels_per_connection: 8,
        passphrase: None,
    }
}

fn transport(fleet: &SshdFleet, state: &TempDir) -> SshTransport {
    SshTransport::new(options(fleet.ssh_config_path(), state)).expect("transport")
}

/// A `Host NAME` block aimed at the fleet's sshd, plus `lines` (which win: first value wins).
fn host_block(fleet: &SshdFleet, name: &str, lines: &[String]) -> String {
    let mut b = format!("\nHost {name}\n");
    for l in lines {
        let _ = writeln!(b, "    {l}");
    }
    let _ = write!(
        b,
        "    HostName 127.0.0.1\n    Port {}\n    User {}\n    ConnectTimeout 10\n",
        fleet.port(),
        fleet.user()
    );
    b
}

/// Writes an ssh_config made of `blocks`, then the harness's own config (its aliases too).
fn write_config(fleet: &SshdFleet, dir: &TempDir, blocks: &[String]) -> PathBuf {
    let harness = fs::read_to_string(fleet.ssh_config_path()).expect("harness ssh_config");
    let path = dir.path().join("ssh_config");
    fs::write(&path, blocks.concat() + &harness).expect("write ssh_config");
    path
}

fn cfg_path(p: &Path) -> String {
    p.display().to_string()
}

/// What one command produced.
#[derive(Debug)]
struct Outcome {
    out: Vec<u8>,
    err: Vec<u8>,
    pid: Option<Option<u32>>,
    end: ExecEvent,
}

impl Outcome {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }

    fn exited(&self) -> &ExitOutcome {
        match &self.end {
            ExecEvent::Exited(o) => o,
            other => panic!("expected an exit, got {other:?}; stderr: {:?}", self.err),
        }
    }

    fn failed(&self) -> (ErrorKind, &str) {
        match &self.end {
            ExecEvent::Failed(e) => {
                // Shown with --nocapture: the messages are part of the interface.
                eprintln!("{}: {}", e.kind, e.message);
                (e.kind, e.message.as_str())
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}

async fn collect(mut handle: ExecHandle) -> Outcome {
    let mut o = Outcome {
        out: Vec::new(),
        err: Vec::new(),
        pid: None,
        end: ExecEvent::Connecting,
    };
    let bound = tokio::time::Instant::now() + LIVENESS;
    loop {
        let ev = tokio::time::timeout_at(bound, handle.events.recv())
            .await
            .expect("events within the liveness bound")
            .expect("a terminal event before the stream ends");
        match ev {
            ExecEvent::Stdout(b) => o.out.extend(b),
            ExecEvent::Stderr(b) => o.err.extend(b),
            ExecEvent::Started { pid } => o.pid = Some(pid),
            ExecEvent::Connecting => {}
            end => {
                o.end = end;
                return o;
            }
        }
    }
}

async fn run(t: &SshTransport, host: &str, spec: ExecSpec) -> Outcome {
    collect(t.exec(&Host::ad_hoc(host), spec)).await
}

/// Waits for `Started` (the remote command is running), returning the handle.
async fn wait_started(handle: &mut ExecHandle) -> Option<u32> {
    let bound = tokio::time::Instant::now() + LIVENESS;
    loop {
        match tokio::time::timeout_at(bound, handle.events.recv())
            .await
            .expect("started within the liveness bound")
        {
            Some(ExecEvent::Started { pid }) => return pid,
            Some(ExecEvent::Failed(e)) => panic!("failed before starting: {e}"),
            Some(_) => {}
            None => panic!("event stream ended before Started"),
        }
    }
}

fn spec(command: &str) -> ExecSpec {
    let mut s = ExecSpec::new(command);
    s.connect_timeout = Duration::from_secs(20);
    s
}

/// A marker unique to this test run, to find (or not find) remote processes with pgrep.
fn marker(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "fdmark-{name}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Polls `pgrep -f pattern` until nothing matches (true) or ~15 s pass (false).
fn processes_gone(pattern: &str) -> bool {
    for _ in 0..150 {
        let out = Command::new("pgrep")
            .arg("-f")
            .arg(pattern)
            .output()
            .expect("pgrep");
        if out.stdout.is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn accepted_logins(fleet: &SshdFleet) -> usize {
    fs::read_to_string(fleet.log_path())
        .unwrap_or_default()
        .matches("Accepted publickey")
        .count()
}

fn fingerprint_of(public_key_line: &str, dir: &TempDir) -> String {
    let path = dir.path().join("host_key.pub");
    fs::write(&path, format!("{public_key_line}\n")).expect("write pub key");
    let out = Command::new("ssh-keygen")
        .arg("-l")
        .arg("-f")
        .arg(&path)
        .output()
        .expect("ssh-keygen -l");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .nth(1)
        .expect("fingerprint field")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_exit_codes_stderr_and_signals() {
    if !sshd_or_skip("success_exit_codes_stderr_and_signals") {
        return;
    }
    let fleet = start(2);
    let state = TempDir::new().unwrap();
    let t = transport(&fleet, &state);

    let ok = run(&t, "h001", spec("echo hello")).await;
    assert_eq!(ok.stdout(), "hello\n", "{ok:?}\n{}", fleet.log_tail(20));
    assert_eq!(ok.exited(), &ExitOutcome::Code { code: 0 });
    assert!(
        matches!(ok.pid, Some(Some(p)) if p > 1),
        "the remote pid is reported: {ok:?}"
    );

    let failed = run(&t, "h002", spec("echo out; echo err >&2; exit 3")).await;
    assert_eq!(failed.stdout(), "out\n");
    assert_eq!(failed.err, b"err\n");
    assert_eq!(failed.exited(), &ExitOutcome::Code { code: 3 });

    let killed = run(&t, "h001", spec("kill -TERM $$")).await;
    assert_eq!(
        killed.exited(),
        &ExitOutcome::Signal {
            signal: "TERM".into()
        }
    );
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_env_cwd_and_pty() {
    if !sshd_or_skip("stdin_env_cwd_and_pty") {
        return;
    }
    let fleet = start(1);
    let state = TempDir::new().unwrap();
    let t = transport(&fleet, &state);

    let mut s = spec("read line; echo \"$line|$GREETING|$(pwd)\"");
    s.stdin = Some(b"secret-value\n".to_vec());
    s.env = vec![("GREETING".into(), "it's $HOME".into())];
    s.cwd = Some("/tmp".into());
    let o = run(&t, "h001", s).await;
    assert_eq!(o.stdout(), "secret-value|it's $HOME|/tmp\n", "{o:?}");
    assert_eq!(o.exited(), &ExitOutcome::Code { code: 0 });

    let mut s = spec("test -t 0 && echo tty");
    s.pty = true;
    let o = run(&t, "h001", s).await;
    assert_eq!(o.stdout().trim(), "tty", "{o:?}");
    assert_eq!(o.exited(), &ExitOutcome::Code { code: 0 });

    // A background child holding stdout open does not hang the command past its exit.
    let o = run(&t, "h001", spec("echo a; sleep 4 & exit 0")).await;
    assert_eq!(o.stdout(), "a\n");
    assert_eq!(o.exited(), &ExitOutcome::Code { code: 0 });

    let mut s = spec("true");
    s.cwd = Some("/nonexistent-dir".into());
    let o = run(&t, "h001", s).await;
    assert_ne!(o.exited(), &ExitOutcome::Code { code: 0 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_and_idle_timeouts_kill_the_remote_command() {
    if !sshd_or_skip("command_and_idle_timeouts_kill_the_remote_command") {
        return;
    }
    let fleet = start(1);
    let state = TempDir::new().unwrap();
    let t = transport(&fleet, &state);

    let mark = marker("timeout");
    let mut s = spec(&format!("sleep 300 & sleep 301; : {mark}"));
    s.timeout = Some(Duration::from_millis(800));
    let o = run(&t, "h001", s).await;
    assert!(matches!(o.exited(), ExitOutcome::TimedOut { .. }), "{o:?}");
    assert!(
        processes_gone(&mark),
        "remote processes outlived the timeout"
    );

    let mark = marker("idle");
    let mut s = spec(&format!("echo start; sleep 300; : {mark}"));
    s.idle_timeout = Some(Duration::from_millis(800));
    let o = run(&t, "h001", s).await;
    assert_eq!(o.stdout(), "start\n");
    assert!(
        matches!(o.exited(), ExitOutcome::IdleTimedOut { after_ms: 800 }),
        "{o:?}"
    );
    assert!(
        processes_gone(&mark),
        "remote processes outlived the idle timeout"
    );

    // A quiet command that ends before its timeouts is not disturbed.
    let mut s = spec("sleep 1; echo done");
    s.timeout = Some(Duration::from_secs(60));
    s.idle_timeout = Some(Duration::from_secs(30));
    let o = run(&t, "h001", s).await;
    assert_eq!(o.stdout(), "done\n");
    assert_eq!(o.exited(), &ExitOutcome::Code { code: 0 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_kills_the_remote_process_group_with_and_without_pty() {
    if !sshd_or_skip("cancel_kills_the_remote_process_group_with_and_without_pty") {
        return;
    }
    let fleet = start(1);
    let state = TempDir::new().unwrap();
    let t = transport(&fleet, &state);

    for pty in [false, true] {
        let mark = marker(if pty { "cancel-pty" } else { "cancel" });
        let mut s = spec(&format!("(sleep 300; : {mark}) & sleep 301; : {mark}"));
        s.pty = pty;
        let mut handle = t.exec(&Host::ad_hoc("h001"), s);
        let pid = wait_started(&mut handle).await;
        assert_eq!(pid.is_some(), !pty, "pid reported without a PTY only");
        // The command is running remotely: its processes carry the marker.
        let bound = Instant::now() + LIVENESS;
        while Command::new("pgrep")
            .arg("-f")
            .arg(&mark)
            .output()
            .expect("pgrep")
            .stdout
            .is_empty()
        {
            assert!(Instant::now() < bound, "remote command never appeared");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        handle.cancel.cancel();
        let o = collect(handle).await;
        assert_eq!(o.exited(), &ExitOutcome::Cancelled, "pty={pty}");
        assert!(
            processes_gone(&mark),
            "pty={pty}: remote processes outlived the cancel"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_hosts_fail_with_their_kind() {
    if !sshd_or_skip("unreachable_hosts_fail_with_their_kind") {
        return;
    }
    let fleet = start(1);
    let dir = TempDir::new().unwrap();
    // Accepts TCP (the kernel completes the handshake) and never says a word.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let closed_port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let known = cfg_path(fleet.known_hosts_path());
    let blocks = [
        format!(
            "\nHost silent\n    HostName 127.0.0.1\n    Port {silent_port}\n    UserKnownHostsFile {known}\n"
        ),
        format!(
            "\nHost closed\n    HostName 127.0.0.1\n    Port {closed_port}\n    UserKnownHostsFile {known}\n"
        ),
    ];
    let config = write_config(&fleet, &dir, &blocks);
    let t = SshTransport::new(options(&config, &dir)).unwrap();

    let mut s = spec("true");
    s.connect_timeout = Duration::from_secs(1);
    let started = Instant::now();
    let o = run(&t, "silent", s).await;
    let (kind, msg) = o.failed();
    assert_eq!(kind, ErrorKind::Timeout, "{msg}");
    assert!(msg.contains("silent"), "{msg}");
    // Liveness only: it must not hang; the real bound is the 1 s connect timeout.
    assert!(started.elapsed() < LIVENESS);

    let o = run(&t, "closed", spec("true")).await;
    let (kind, msg) = o.failed();
    assert_eq!(kind, ErrorKind::Connect, "{msg}");
    assert!(msg.contains("refused"), "{msg}");

    // A name the resolver rejects without sending a query (traffic stays on loopback).
    let mut nodns = Host::ad_hoc("nodns");
    nodns.address = Some("no such host.invalid".into());
    let o = collect(t.exec(&nodns, spec("true"))).await;
    let (kind, msg) = o.failed();
    assert_eq!(kind, ErrorKind::Dns, "{msg}");
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_keys_unknown_accept_new_and_changed() {
    if !sshd_or_skip("host_keys_unknown_accept_new_and_changed") {
        return;
    }
    let fleet = start(1);
    let dir = TempDir::new().unwrap();
    let empty = dir.path().join("empty_known_hosts");
    fs::write(&empty, "").unwrap();
    let other_key = dir.path().join("other_host_key");
    ssh_keygen(&other_key, "ed25519", "").unwrap();
    let other_pub = fs::read_to_string(other_key.with_extension("pub")).unwrap();
    let changed = dir.path().join("changed_known_hosts");
    fs::write(
        &changed,
        format!("# first line\nfresh {}", other_pub.trim()),
    )
    .unwrap();
    let key = cfg_path(fleet.user_key_path());
    let blocks = [
        host_block(
            &fleet,
            "fresh",
            &[
                format!("UserKnownHostsFile {}", cfg_path(&empty)),
                format!("IdentityFile {key}"),
                "IdentitiesOnly yes".into(),
            ],
        ),
        host_block(
            &fleet,
            "moved",
            &[
                "HostKeyAlias fresh".into(),
                format!("UserKnownHostsFile {}", cfg_path(&changed)),
                format!("IdentityFile {key}"),
                "IdentitiesOnly yes".into(),
            ],
        ),
    ];
    let config = write_config(&fleet, &dir, &blocks);
    let expected = fingerprint_of(fleet.host_public_key(), &dir);

    // Unknown: refused, with the fingerprint and how to accept it.
    let t = SshTransport::new(options(&config, &dir)).unwrap();
    let o = run(&t, "fresh", spec("true")).await;
    let (kind, msg) = o.failed();
    assert_eq!(kind, ErrorKind::HostKey, "{msg}");
    assert!(msg.contains(&expected), "fingerprint {expected} in: {msg}");
    assert!(
        msg.contains("--accept-new") && msg.contains("ssh-keyscan"),
        "{msg}"
    );

    // --accept-new: recorded in fleetdeck's file, then trusted without the flag.
    let mut opts = options(&config, &dir);
    opts.accept_new = true;
    let t = SshTransport::new(opts).unwrap();
    let o = run(&t, "fresh", spec("echo first")).await;
    assert_eq!(o.stdout(), "first\n", "{o:?}");
    let recorded = fs::read_to_string(dir.path().join("fleetdeck_known_hosts")).unwrap();
    assert!(recorded.contains("ssh-ed25519"), "{recorded}");
    let t = SshTransport::new(options(&config, &dir)).unwrap();
    let o = run(&t, "fresh", spec("echo again")).await;
    assert_eq!(o.stdout(), "again\n", "{o:?}");

    // Changed: refused loudly even with --accept-new, naming the old key's file:line.
    fs::remove_file(dir.path().join("fleetdeck_known_hosts")).unwrap();
    let mut opts = options(&config, &dir);
    opts.accept_new = true;
    let t = SshTransport::new(opts).unwrap();
    let o = run(&t, "moved", spec("true")).await;
    let (kind, msg) = o.failed();
    assert_eq!(kind, ErrorKind::HostKey, "{msg}");
    assert!(msg.contains("CHANGED"), "{msg}");
    assert!(
        msg.contains(&format!("{}:2", changed.display())),
        "file:line in {msg}"
    );
    assert!(!dir.path().join("fleetdeck_known_hosts").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_file_auth_rsa_and_encrypted_keys() {
    if !sshd_or_skip("key_file_auth_rsa_and_encrypted_keys") {
        return;
    }
    // Each alias its own HostKeyAlias: one user on one host:port with the same alias would
    // share a pooled connection, whatever key the alias names.
    let fleet = start(4);
    let dir = TempDir::new().unwrap();
    let known = format!("UserKnownHostsFile {}", cfg_path(fleet.known_hosts_path()));
    let only = "IdentitiesOnly yes".to_string();
    let agent_off = "IdentityAgent none".to_string();
    let block = |name: &str, alias: &str, key: &Path| {
        host_block(
            &fleet,
            name,
            &[
                format!("HostKeyAlias {alias}"),
                known.clone(),
                only.clone(),
                agent_off.clone(),
                format!("IdentityFile {}", cfg_path(key)),
            ],
        )
    };
    let missing = dir.path().join("id_missing");
    let blocks = [
        block("rsa", "h002", fleet.rsa_user_key_path()),
        block("locked", "h003", fleet.encrypted_user_key_path()),
        block("nokey", "h004", &missing),
    ];
    let config = write_config(&fleet, &dir, &blocks);

    // ed25519 key file (the harness's own config) and RSA with SHA-2 signatures.
    let t = SshTransport::new(options(&config, &dir)).unwrap();
    let o = run(&t, "h001", spec("echo ed25519")).await;
    assert_eq!(o.stdout(), "ed25519\n", "{o:?}");
    let o = run(&t, "rsa", spec("echo rsa")).await;
    assert_eq!(o.stdout(), "rsa\n", "{o:?}\n{}", fleet.log_tail(20));
    let log = fs::read_to_string(fleet.log_path()).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("Accepted publickey") && l.contains("RSA")),
        "{}",
        fleet.log_tail(20)
    );

    // Encrypted key without a way to ask: a clear error naming the file.
    let o = run(&t, "locked", spec("true")).await;
    let (kind, msg) = o.failed();
    assert_eq!(kind, ErrorKind::Auth, "{msg}");
    assert!(
        msg.contains(&cfg_path(fleet.encrypted_user_key_path())) && msg.contains("encrypted"),
        "{msg}"
    );

    // No usable key: the error lists what was tried.
    let o = run(&t, "nokey", spec("true")).await;
    let (kind, msg) = o.failed();
    assert_eq!(kind, ErrorKind::Auth, "{msg}");
    assert!(msg.contains("id_missing (not found)"), "{msg}");

    // With a passphrase callback: asked once, however many connections use the key.
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let mut opts = options(&config, &dir);
    opts.passphrase = Some(Arc::new(move |_: &Path| {
        counter.fetch_add(1, Ordering::SeqCst);
        Some(ENCRYPTED_KEY_PASSPHRASE.to_string())
    }));
    let t = SshTransport::new(opts).unwrap();
    let o = run(&t, "locked", spec("echo unlocked")).await;
    assert_eq!(o.stdout(), "unlocked\n", "{o:?}");
    t.shutdown().await;
    let o = run(&t, "locked", spec("echo again")).await;
    assert_eq!(o.stdout(), "again\n", "{o:?}");
    assert_eq!(asked.load(Ordering::SeqCst), 1);
}

/// An ssh-agent we started (by pid) and stop on drop.
struct Agent {
    child: std::process::Child,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_agent_auth() {
    if !sshd_or_skip("ssh_agent_auth") {
        return;
    }
    let fleet = start(1);
    let dir = TempDir::new().unwrap();
    let sock = dir.path().join("agent.sock");
    let agent = Agent {
        child: Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&sock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent"),
    };
    let bound = Instant::now() + Duration::from_secs(10);
    while !sock.exists() {
        assert!(Instant::now() < bound, "ssh-agent socket never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SSH_AUTH_SOCK only in ssh-add's environment: env is process-global in tests.
    let added = Command::new("ssh-add")
        .arg(fleet.user_key_path())
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .expect("ssh-add");
    assert!(added.status.success(), "{added:?}");

    let blocks = [host_block(
        &fleet,
        "viaagent",
        &[
            "HostKeyAlias h001".into(),
            format!("UserKnownHostsFile {}", cfg_path(fleet.known_hosts_path())),
            format!("IdentityAgent {}", cfg_path(&sock)),
            // No usable key file: only the agent can get us in.
            format!("IdentityFile {}", cfg_path(&dir.path().join("id_absent"))),
        ],
    )];
    let config = write_config(&fleet, &dir, &blocks);
    let t = SshTransport::new(options(&config, &dir)).unwrap();
    let o = run(&t, "viaagent", spec("echo agent")).await;
    assert_eq!(o.stdout(), "agent\n", "{o:?}\n{}", fleet.log_tail(20));
    drop(agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_jump_through_an_alias() {
    if !sshd_or_skip("proxy_jump_through_an_alias") {
        return;
    }
    let fleet = start(2);
    let dir = TempDir::new().unwrap();
    let closed_port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let known = format!("UserKnownHostsFile {}", cfg_path(fleet.known_hosts_path()));
    let key = format!("IdentityFile {}", cfg_path(fleet.user_key_path()));
    let blocks = [
        host_block(
            &fleet,
            "inner",
            &[
                "HostKeyAlias h002".into(),
                known.clone(),
                key.clone(),
                "ProxyJump h001".into(),
            ],
        ),
        host_block(
            &fleet,
            "behind-dead",
            &[
                "HostKeyAlias h002".into(),
                known.clone(),
                key,
                "ProxyJump deadjump".into(),
            ],
        ),
        format!("\nHost deadjump\n    HostName 127.0.0.1\n    Port {closed_port}\n    {known}\n"),
    ];
    let config = write_config(&fleet, &dir, &blocks);
    let t = SshTransport::new(options(&config, &dir)).unwrap();

    let o = run(&t, "inner", spec("echo through; echo $SSH_CONNECTION")).await;
    assert!(
        o.stdout().starts_with("through\n"),
        "{o:?}\n{}",
        fleet.log_tail(20)
    );
    assert_eq!(o.exited(), &ExitOutcome::Code { code: 0 });
    // Two logins: the jump host, then the target through the tunnel.
    assert_eq!(accepted_logins(&fleet), 2, "{}", fleet.log_tail(20));
    // Both connections are pooled: more commands log in no more.
    let o = run(&t, "inner", spec("echo again")).await;
    assert_eq!(o.stdout(), "again\n");
    assert_eq!(accepted_logins(&fleet), 2);

    // The target goes first, then (in the next pass) the jump host it no longer needs.
    assert_eq!(t.close_idle(Duration::ZERO).await, 2);

    let o = run(&t, "behind-dead", spec("true")).await;
    let (kind, msg) = o.failed();
    assert_eq!(kind, ErrorKind::Connect, "{msg}");
    assert!(
        msg.contains("behind-dead: through jump host deadjump"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_megabytes_arrive_intact() {
    if !sshd_or_skip("ten_megabytes_arrive_intact") {
        return;
    }
    let fleet = start(1);
    let state = TempDir::new().unwrap();
    let t = transport(&fleet, &state);
    let o = run(
        &t,
        "h001",
        spec(
            "f=$(mktemp) && head -c 10000000 /dev/urandom > \"$f\" && sha256sum < \"$f\" >&2 \
             && cat \"$f\"; rm -f \"$f\"",
        ),
    )
    .await;
    assert_eq!(o.exited(), &ExitOutcome::Code { code: 0 });
    assert_eq!(o.out.len(), 10_000_000);
    let remote = String::from_utf8_lossy(&o.err)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let mut local = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum");
    local
        .stdin
        .take()
        .expect("stdin")
        .write_all(&o.out)
        .expect("hash input");
    let local = local.wait_with_output().expect("sha256sum output");
    let local = String::from_utf8_lossy(&local.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    assert_eq!(local, remote);
    assert_eq!(local.len(), 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_host_stalls_nothing_else() {
    if !sshd_or_skip("a_flooding_host_stalls_nothing_else") {
        return;
    }
    let fleet = start(2);
    let state = TempDir::new().unwrap();
    let t = transport(&fleet, &state);

    let mut flood_spec = spec("yes");
    flood_spec.timeout = Some(Duration::from_secs(90));
    let mut flood = t.exec(&Host::ad_hoc("h001"), flood_spec);
    wait_started(&mut flood).await;
    // Consume the flood like the engine does (continuously), counting bytes.
    let flooded = Arc::new(AtomicUsize::new(0));
    let count = flooded.clone();
    let cancel = flood.cancel.clone();
    let consumer = tokio::spawn(async move {
        let mut end = None;
        while let Some(ev) = flood.events.recv().await {
            match ev {
                ExecEvent::Stdout(b) => {
                    count.fetch_add(b.len(), Ordering::SeqCst);
                }
                e if e.is_terminal() => end = Some(e),
                _ => {}
            }
        }
        end
    });
    // Same connection (second channel to h001) and another connection (h002).
    let same = run(&t, "h001", spec("echo same")).await;
    let other = run(&t, "h002", spec("echo other")).await;
    assert_eq!(same.stdout(), "same\n");
    assert_eq!(other.stdout(), "other\n");
    assert!(!consumer.is_finished(), "the flood was still running");
    assert!(flooded.load(Ordering::SeqCst) > 0);
    cancel.cancel();
    let end = consumer.await.unwrap();
    assert_eq!(end, Some(ExecEvent::Exited(ExitOutcome::Cancelled)));
    assert_eq!(accepted_logins(&fleet), 2, "one connection per host");

    // Nobody reads this flood: buffers fill and reading pauses. A cancel must still get
    // through and kill it (its kill channel shares the connection).
    let mark = marker("unread-flood");
    let mut unread = t.exec(&Host::ad_hoc("h001"), spec(&format!("yes {mark}")));
    wait_started(&mut unread).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    unread.cancel.cancel();
    let o = collect(unread).await;
    assert_eq!(o.exited(), &ExitOutcome::Cancelled);
    assert!(!o.out.is_empty());
    assert!(processes_gone(&mark), "the flood outlived its cancel");
    let o = run(&t, "h001", spec("echo still-fine")).await;
    assert_eq!(o.stdout(), "still-fine\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_commands_reuse_one_connection() {
    if !sshd_or_skip("many_commands_reuse_one_connection") {
        return;
    }
    let fleet = start(1);
    let state = TempDir::new().unwrap();
    let t = transport(&fleet, &state);
    // 20 at once: more than the 8 channels a connection may carry; the rest queue.
    let handles: Vec<_> = (0..20)
        .map(|i| t.exec(&Host::ad_hoc("h001"), spec(&format!("echo n{i}"))))
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let o = collect(h).await;
        assert_eq!(
            o.stdout(),
            format!("n{i}\n"),
            "{o:?}\n{}",
            fleet.log_tail(60)
        );
    }
    for i in 0..5 {
        let o = run(&t, "h001", spec(&format!("echo later{i}"))).await;
        assert_eq!(o.stdout(), format!("later{i}\n"));
    }
    assert_eq!(accepted_logins(&fleet), 1, "{}", fleet.log_tail(30));

    // Idle connections can be released; the next command connects again.
    assert_eq!(t.close_idle(Duration::from_secs(3600)).await, 0);
    assert_eq!(t.close_idle(Duration::ZERO).await, 1);
    let o = run(&t, "h001", spec("echo fresh")).await;
    assert_eq!(o.stdout(), "fresh\n");
    assert_eq!(accepted_logins(&fleet), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_fewer_sessions_than_our_channel_cap_still_runs_everything() {
    if !sshd_or_skip("a_server_with_fewer_sessions_than_our_channel_cap_still_runs_everything") {
        return;
    }
    let fleet = start_with(FleetOptions {
        hosts: 1,
        max_sessions: Some(2),
        kex: Some("curve25519-sha256".into()),
        ..Default::default()
    });
    let state = TempDir::new().unwrap();
    let t = transport(&fleet, &state);
    let handles: Vec<_> = (0..12)
        .map(|i| {
            t.exec(
                &Host::ad_hoc("h001"),
                spec(&format!("sleep 0.2; echo s{i}")),
            )
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let o = collect(h).await;
        assert_eq!(o.stdout(), format!("s{i}\n"), "{o:?}");
    }
    assert_eq!(accepted_logins(&fleet), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_max_startups_is_handled() {
    if !sshd_or_skip("default_max_startups_is_handled") {
        return;
    }
    let fleet = start_with(FleetOptions {
        hosts: 40,
        max_startups: Some(DEFAULT_MAX_STARTUPS.into()),
        kex: Some("curve25519-sha256".into()),
        ..Default::default()
    });
    let state = TempDir::new().unwrap();
    let t = transport(&fleet, &state);
    let handles: Vec<_> = fleet
        .aliases()
        .iter()
        .map(|a| (a.clone(), t.exec(&Host::ad_hoc(a), spec("echo up"))))
        .collect();
    let mut failures = Vec::new();
    for (alias, h) in handles {
        let o = collect(h).await;
        if o.end != ExecEvent::Exited(ExitOutcome::Code { code: 0 }) || o.stdout() != "up\n" {
            failures.push(format!("{alias}: {:?}", o.end));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}\n{}", fleet.log_tail(30));
    assert_eq!(accepted_logins(&fleet), 40);
    let log = fs::read_to_string(fleet.log_path()).unwrap_or_default();
    eprintln!(
        "handshakes dropped by sshd (MaxStartups) and retried: {}",
        log.matches("past MaxStartups").count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_lost_mid_command_fails_as_protocol_then_reconnects() {
    if !sshd_or_skip("a_link_lost_mid_command_fails_as_protocol_then_reconnects") {
        return;
    }
    let fleet = start(1);
    let state = TempDir::new().unwrap();
    let t = transport(&fleet, &state);
    // Prints the pid of its sshd session process and its own (which `exec` hands to the
    // sleep), then waits.
    let mut handle = t.exec(&Host::ad_hoc("h001"), spec("echo $PPID $$; exec sleep 300"));
    wait_started(&mut handle).await;
    let mut line = Vec::new();
    let bound = tokio::time::Instant::now() + LIVENESS;
    while !line.contains(&b'\n') {
        match tokio::time::timeout_at(bound, handle.events.recv()).await {
            Ok(Some(ExecEvent::Stdout(b))) => line.extend(b),
            Ok(Some(ev)) => assert!(!ev.is_terminal(), "{ev:?}"),
            other => panic!("no pid line: {other:?}"),
        }
    }
    let text = String::from_utf8_lossy(&line).into_owned();
    let mut pids = text
        .split_whitespace()
        .map(|p| p.parse::<i32>().expect("pid"));
    let (sshd_pid, sleep_pid) = (pids.next().expect("sshd pid"), pids.next().expect("pid"));
    // That process is the sshd serving our connection (a child of the harness's sshd).
    let parent = fs::read_to_string(format!("/proc/{sshd_pid}/stat")).unwrap_or_default();
    assert!(parent.contains("sshd"), "{parent}");
    // SAFETY: kill(2) on a process of the sshd this test started; no memory involved.
    unsafe {
        libc::kill(sshd_pid, libc::SIGKILL);
    }
    let o = collect(handle).await;
    let (kind, msg) = o.failed();
    assert_eq!(kind, ErrorKind::Protocol, "{msg}");
    assert!(msg.contains("lost"), "{msg}");
    // The killed session leaves its command orphaned: end it (it is ours) rather than leave a
    // sleep behind for five minutes.
    // SAFETY: kill(2) on the command this test started; no memory involved.
    unsafe {
        libc::kill(sleep_pid, libc::SIGKILL);
    }

    // The dead connection is replaced on next use.
    let o = run(&t, "h001", spec("echo back")).await;
    assert_eq!(o.stdout(), "back\n", "{o:?}");
}

/// Not a test: a measurement of one fan-out over N aliases (`FD_FANOUT_HOSTS`, default 200)
/// at fan-out 64, printing wall time, this process's CPU time and peak RSS. Run with
/// `cargo test --release --test ssh_transport fanout_measurement -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, run by hand"]
async fn fanout_measurement() {
    if !sshd_or_skip("fanout_measurement") {
        return;
    }
    let hosts: usize = std::env::var("FD_FANOUT_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    // `FD_FANOUT_KEX=default` keeps OpenSSH's own key exchange list.
    let kex = match std::env::var("FD_FANOUT_KEX").as_deref() {
        Ok("default") => None,
        Ok(other) => Some(other.to_string()),
        Err(_) => Some("curve25519-sha256".to_string()),
    };
    let fleet = start_with(FleetOptions {
        hosts,
        kex,
        ..Default::default()
    });
    let state = TempDir::new().unwrap();
    let t = transport(&fleet, &state);
    let fanout = Arc::new(tokio::sync::Semaphore::new(64));
    let rss_before = status_kib("VmRSS");
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let tasks: Vec<_> = fleet
        .aliases()
        .into_iter()
        .map(|alias| {
            let t = t.clone();
            let fanout = fanout.clone();
            tokio::spawn(async move {
                let _slot = fanout.acquire_owned().await.expect("semaphore");
                run(&t, &alias, spec("true")).await.end
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        if task.await.unwrap() == ExecEvent::Exited(ExitOutcome::Code { code: 0 }) {
            ok += 1;
        }
    }
    let wall = started.elapsed();
    let cpu = cpu_seconds() - cpu_before;
    println!(
        "hosts {hosts}: ok {ok}, wall {:.2} s, client cpu {cpu:.2} s, rss before {} MiB, \
         rss with {hosts} pooled connections {} MiB, peak rss {} MiB",
        wall.as_secs_f64(),
        rss_before / 1024,
        status_kib("VmRSS") / 1024,
        peak_rss_kib() / 1024
    );
    t.shutdown().await;
    assert_eq!(ok, hosts);
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we pass; no other memory is touched.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// A `kB` line of /proc/self/status (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn peak_rss_kib() -> i64 {
    // SAFETY: as above.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
    }
    usage.ru_maxrss
}
