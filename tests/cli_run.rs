//! `fleetdeck run` through the binary: output modes, dry run, exit codes, protected
//! environments, escape neutralisation, Ctrl-C. Local hosts run real processes; SSH hosts
//! (at the end) go to the harness's real sshd on 127.0.0.1.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::cli::{Out, fleetdeck, history_file, home_with, run, ssh_home, unreachable_host};

const LOCAL_HOSTS: &str = r#"
[[hosts]]
name = "l[1-4]"
transport = "local"
env = "dev"

[[hosts]]
name = "longer-name"
transport = "local"
env = "dev"

[[hosts]]
name = "p1"
transport = "local"
env = "prod"
"#;

fn history(home: &Path) -> Vec<Value> {
    let text = fs::read_to_string(history_file(home)).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A shell command that writes its shell's pid to `dir/pid`, touches `dir/started`, then
/// sleeps for a minute: (command, marker, pid file).
fn sleeper(dir: &Path) -> (String, PathBuf, PathBuf) {
    let marker = dir.join("started");
    let pid_file = dir.join("pid");
    let cmd = format!(
        "echo $$ > {}; touch {}; sleep 60",
        pid_file.display(),
        marker.display()
    );
    (cmd, marker, pid_file)
}

/// Starts `fleetdeck --home HOME ARGS…`, waits for `marker` to appear, sends SIGINT and waits
/// for the binary to end: its exit status and stderr. Panics with `never_started()` when the
/// command does not start within 30 s, and when the binary outlives SIGINT by 30 s.
fn interrupt_once_started(
    home: &Path,
    args: &[&str],
    marker: &Path,
    never_started: impl FnOnce() -> String,
) -> (ExitStatus, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("fleetdeck"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("FLEETDECK_HOME")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !marker.exists() {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{}", never_started());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: signals our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fleetdeck did not exit after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status, stderr)
}

/// The pid a [`sleeper`] wrote.
fn read_pid(pid_file: &Path) -> i32 {
    fs::read_to_string(pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Whether process `pid` exists.
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks whether the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn stream_lines_are_aligned_and_stderr_is_marked() {
    let home = home_with(LOCAL_HOSTS);
    let out = run(
        home.path(),
        &[
            "run",
            "-t",
            "l1,longer-name",
            "--",
            "echo out; echo err >&2",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "l1!:          err",
            "l1:           out",
            "longer-name!: err",
            "longer-name:  out",
        ]
    );
    assert!(
        out.stderr.contains("running on 2 hosts: l1,longer-name\n"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("ok 2  (run "), "{}", out.stderr);
}

#[test]
fn partial_lines_are_never_mixed_between_hosts() {
    let home = home_with(LOCAL_HOSTS);
    let out = run(
        home.path(),
        &[
            "run",
            "-t",
            "l[1-4]",
            "--",
            "for i in 1 2 3; do printf 'aaaa'; sleep 0.05; printf 'bbbb\\n'; done; printf 'end'",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 16, "{}", out.stdout);
    for line in lines {
        let (_, text) = line.split_once(": ").unwrap();
        let text = text.trim_start();
        assert!(text == "aaaabbbb" || text == "end", "mixed line: {line:?}");
    }
}

#[test]
fn gather_prints_identical_outputs_once_outliers_first() {
    let home = home_with(LOCAL_HOSTS);
    let lock = home.path().join("lock");
    // Exactly one host wins the mkdir and becomes the outlier.
    let cmd = format!(
        "if mkdir {} 2>/dev/null; then echo odd; echo why >&2; exit 4; else echo same; fi",
        lock.display()
    );
    let out = run(
        home.path(),
        &["run", "-t", "l[1-4]", "--gather", "--", &cmd],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let text = out.stdout;
    let rule = "---------------\n";
    let parts: Vec<&str> = text.split(rule).collect();
    // "", header1, body1, header2, body2
    assert_eq!(parts.len(), 5, "{text}");
    assert!(
        parts[1].starts_with("l") && parts[1].ends_with(" (1) · exit 4\n"),
        "{text}"
    );
    // stdout and stderr come on separate pipes: their order is not fixed.
    let mut body: Vec<&str> = parts[2].lines().collect();
    body.sort_unstable();
    assert_eq!(body, ["! why", "odd"], "{text}");
    assert!(parts[3].ends_with(" (3) · exit 0\n"), "{text}");
    assert_eq!(parts[4], "same\n");
    let outlier = parts[1].split(' ').next().unwrap();
    assert!(
        out.stderr.contains(&format!("failed 1 {outlier}")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("  {outlier}: exit 4: why\n")),
        "{}",
        out.stderr
    );
}

#[test]
fn json_events_follow_the_documented_schema() {
    let home = home_with(LOCAL_HOSTS);
    let out = run(
        home.path(),
        &[
            "run",
            "-t",
            "l[1-2]",
            "--json",
            "--",
            "echo hi; echo oops >&2; exit 3",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let events: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    for e in &events {
        assert_eq!(e["v"], 1);
        assert!(e["ts"].as_str().unwrap().ends_with('Z'));
    }
    let first = &events[0];
    assert_eq!(first["event"], "run_started");
    assert_eq!(first["hosts"], 2);
    assert_eq!(first["targets"], "l[1-2]");
    assert_eq!(first["command"], "echo hi; echo oops >&2; exit 3");
    let last = events.last().unwrap();
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["exit_code"], 1);
    assert_eq!(last["status"], "failed");
    assert_eq!(last["id"], first["id"]);
    assert_eq!(last["hosts"].as_array().unwrap().len(), 2);
    assert_eq!(last["hosts"][0]["exit_code"], 3);
    for host in ["l1", "l2"] {
        let of = |kind: &str| {
            events
                .iter()
                .filter(|e| e["event"] == kind && e["host"] == host)
                .collect::<Vec<_>>()
        };
        let states: Vec<&str> = of("state")
            .iter()
            .map(|e| e["state"].as_str().unwrap())
            .collect();
        assert_eq!(states.last(), Some(&"failed"), "{states:?}");
        assert!(states.contains(&"running"), "{states:?}");
        let end = of("state").into_iter().last().unwrap();
        assert_eq!(end["outcome"]["outcome"], "code");
        assert_eq!(end["outcome"]["code"], 3);
        let output = of("output");
        let stdout: String = output
            .iter()
            .filter(|e| e["stream"] == "stdout")
            .map(|e| e["data"].as_str().unwrap())
            .collect();
        let stderr: String = output
            .iter()
            .filter(|e| e["stream"] == "stderr")
            .map(|e| e["data"].as_str().unwrap())
            .collect();
        assert_eq!((stdout.as_str(), stderr.as_str()), ("hi\n", "oops\n"));
    }
}

#[test]
fn dry_run_shows_every_host_and_runs_nothing() {
    let home = home_with(LOCAL_HOSTS);
    let marker = home.path().join("ran");
    let cmd = format!("touch {}", marker.display());
    // The ssh config decides where an ssh host goes; the dry run shows it.
    let ssh_config = home.path().join("ssh_config");
    fs::write(
        &ssh_config,
        "Host web9\n  HostName 10.9.9.9\n  User deploy\n  Port 2200\n  ProxyJump jump@bastion\n",
    )
    .unwrap();
    let out = run(
        home.path(),
        &[
            "run",
            "-t",
            "l[1-2],p1,web9",
            "--dry-run",
            "--timeout",
            "0s",
            "--ssh-config",
            ssh_config.to_str().unwrap(),
            "--",
            &cmd,
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("dry run: nothing will run. 4 hosts: l[1-2],p1,web9\n"),
        "{}",
        out.stdout
    );
    // Columns are padded: compare with runs of spaces squeezed.
    let rows: Vec<String> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert!(
        rows.contains(&format!("l1 local this machine /bin/sh -c '{cmd}'")),
        "{}",
        out.stdout
    );
    assert!(
        rows.contains(&format!(
            "web9 ssh deploy@10.9.9.9:2200 via jump@bastion {cmd}"
        )),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("timeout off"), "{}", out.stdout);
    assert!(
        out.stdout.contains("protected environment prod"),
        "{}",
        out.stdout
    );
    assert!(!marker.exists());
    assert!(!history_file(home.path()).exists());
}

#[test]
fn invalid_input_exits_2_and_records_nothing() {
    let home = home_with(LOCAL_HOSTS);
    let cases: &[(&[&str], &str)] = &[
        (&["run", "-t", "l[1-", "--", "true"], "invalid selector"),
        (&["run", "-t", "@nogroup", "--", "true"], "unknown group"),
        (&["run", "-t", "nomatch*", "--", "true"], "no hosts matched"),
        // Local hosts cannot be sampled: no comparison matches them.
        (
            &["run", "-t", "l*&cpu>=0", "--", "true"],
            "no hosts matched",
        ),
        (
            &["run", "-t", "cpux>9", "--", "true"],
            "did you mean `cpu>9`?",
        ),
        (
            &["run", "-t", "l1", "--timeout", "5x", "--", "true"],
            "invalid duration",
        ),
        (
            &["run", "-t", "l1", "--fanout", "0", "--", "true"],
            "--fanout",
        ),
        (
            &["run", "-t", "l1", "--max-fail", "120%", "--", "true"],
            "percentage",
        ),
        (&["run", "-t", "l1"], "missing command"),
        (
            &["run", "-t", "l1", "--json", "--gather", "--", "true"],
            "cannot be used with",
        ),
        (&["run", "--", "true"], "--target"),
        (
            &[
                "run",
                "-t",
                "web9",
                "--ssh-config",
                "/nonexistent/ssh_config",
                "--",
                "true",
            ],
            "/nonexistent/ssh_config",
        ),
        (
            &[
                "run",
                "-t",
                "l1",
                "--known-hosts",
                "/nonexistent/known_hosts",
                "--",
                "true",
            ],
            "/nonexistent/known_hosts",
        ),
    ];
    for (args, needle) in cases {
        let out = run(home.path(), args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
    fs::write(
        home.path().join("config/config.toml"),
        "[run]\nfanuot = 3\n",
    )
    .unwrap();
    let out = run(home.path(), &["run", "-t", "l1", "--", "true"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("config.toml:2:"), "{}", out.stderr);
    assert!(!history_file(home.path()).exists());
}

#[test]
fn exit_codes_follow_the_hosts() {
    let home = home_with(LOCAL_HOSTS);
    assert_eq!(
        run(home.path(), &["run", "-t", "l[1-2]", "--", "true"]).code,
        0
    );
    let lock = home.path().join("lock");
    let cmd = format!("mkdir {} 2>/dev/null || exit 7", lock.display());
    let out = run(home.path(), &["run", "-t", "l[1-3]", "--", &cmd]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("ok 1 · failed 2 "), "{}", out.stderr);
    let out = run(
        home.path(),
        &["run", "-t", "l1", "--timeout", "300ms", "--", "sleep 20"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("timeout 1 l1"), "{}", out.stderr);
    assert!(
        out.stderr.contains("  l1: timed out after "),
        "{}",
        out.stderr
    );
    let runs = history(home.path());
    assert_eq!(runs.len(), 3);
    let statuses: Vec<&str> = runs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["ok", "failed", "failed"]);
}

#[test]
fn protected_environments_need_yes_without_a_terminal() {
    let home = home_with(LOCAL_HOSTS);
    let marker = home.path().join("ran");
    let cmd = format!("touch {}", marker.display());
    let out = run(home.path(), &["run", "-t", "p1,l1", "--", &cmd]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("protected environment prod"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert!(!marker.exists());
    assert!(!history_file(home.path()).exists());

    let out = run(home.path(), &["run", "-t", "p1,l1", "--yes", "--", &cmd]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(marker.exists());
}

#[test]
fn remote_escape_sequences_are_neutralised() {
    let home = home_with(LOCAL_HOSTS);
    let cmd = r"printf '\033]0;pwned\007\033[2J\033]52;c;ZXZpbA==\007\233H\n'; printf '\033[31mred\033[0m\n' >&2";
    for mode in ["--stream", "--gather"] {
        let out = fleetdeck(home.path())
            .args(["run", "-t", "l1", mode, "--", cmd])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !out.stdout.iter().any(|b| *b == 0x1b || *b == 0x07),
            "raw escape in {mode}: {text:?}"
        );
        assert!(
            text.contains("^[]0;pwned^G^[[2J^[]52;c;ZXZpbA==^G"),
            "{text:?}"
        );
        // Not a terminal: colour is escaped too.
        assert!(text.contains("^[[31mred^[[0m"), "{text:?}");
        // A lone 0x9b byte (8-bit CSI) is invalid UTF-8 and shows as U+FFFD.
        assert!(text.contains("\u{fffd}H"), "{text:?}");
    }
}

#[test]
fn json_output_escapes_terminal_controls() {
    let home = home_with(LOCAL_HOSTS);
    // ESC, BEL, and U+009B (8-bit CSI) encoded as UTF-8.
    let cmd = r"printf '\033]0;pwned\007 \302\233H\n'";
    let out = fleetdeck(home.path())
        .args(["run", "-t", "l1", "--json", "--", cmd])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains(['\u{1b}', '\u{7}', '\u{9b}']),
        "raw control in {text:?}"
    );
    let data: String = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == "output")
        .map(|e| e["data"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(data, "\u{1b}]0;pwned\u{7} \u{9b}H\n");
}

/// Spawns the binary, waits for the remote command to start, sends SIGINT: exit 130, the run
/// recorded as cancelled, the command's process gone.
#[test]
fn ctrl_c_cancels_the_run_and_exits_130() {
    let home = home_with(LOCAL_HOSTS);
    let (cmd, marker, pid_file) = sleeper(home.path());
    let args = ["run", "-t", "l1", "--", &cmd];
    let (status, stderr) = interrupt_once_started(home.path(), &args, &marker, || {
        "the command never started".into()
    });
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("cancelling"), "{stderr}");
    assert!(stderr.contains("cancelled 1 l1"), "{stderr}");
    let runs = history(home.path());
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "cancelled");
    assert_eq!(runs[0]["hosts"][0]["state"], "cancelled");
    // audit.jsonl: the run started, the operator cancelled it, the run ended cancelled.
    let audit = std::fs::read_to_string(home.path().join("data/audit.jsonl")).unwrap();
    let lines: Vec<(String, String)> = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| {
            assert_eq!(v["run_id"], runs[0]["id"]);
            (
                v["action"].as_str().unwrap().to_string(),
                v["result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let actions: Vec<&str> = lines.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["run", "cancel", "run"], "{audit}");
    assert_eq!(lines[2].1, "cancelled");
    let remote = read_pid(&pid_file);
    assert!(
        !alive(remote),
        "the cancelled command (pid {remote}) is still running"
    );
}

// ---- SSH hosts, through the harness's real sshd on 127.0.0.1 ----

use support::sshd::{FleetOptions, SshdFleet, sshd_or_skip};

fn ssh_run(home: &Path, fleet: &SshdFleet, args: &[&str]) -> Out {
    let config = fleet.ssh_config_path().to_str().unwrap().to_string();
    let mut all: Vec<&str> = vec!["run", "--ssh-config", &config];
    all.extend_from_slice(args);
    run(home, &all)
}

#[test]
fn ssh_stream_gather_json_and_exit_codes() {
    if !sshd_or_skip("ssh_stream_gather_json_and_exit_codes") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions::default()).unwrap();
    let home = ssh_home(&fleet, "");
    let user = fleet.user().to_string();

    let out = ssh_run(
        home.path(),
        &fleet,
        &[
            "-t",
            "h[001-003]",
            "--",
            "echo",
            "hi from $(whoami);",
            "echo warn >&2",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stderr, fleet.log_tail(20));
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort_unstable();
    let mut expected = Vec::new();
    for alias in ["h001", "h002", "h003"] {
        expected.push(format!("{alias}!: warn"));
        expected.push(format!("{alias}:  hi from {user}"));
    }
    expected.sort();
    assert_eq!(lines, expected);
    assert!(
        out.stderr.contains("running on 3 hosts: h[001-003]"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("ok 3  (run "), "{}", out.stderr);

    let out = ssh_run(
        home.path(),
        &fleet,
        &["-t", "all", "--gather", "--", "uname -s"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "---------------\nh[001-003] (3) · exit 0\n---------------\nLinux\n"
    );

    let out = ssh_run(
        home.path(),
        &fleet,
        &["-t", "h002", "--json", "--", "exit 3"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let last: Value = serde_json::from_str(out.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["hosts"][0]["exit_code"], 3);

    let out = ssh_run(
        home.path(),
        &fleet,
        &["-t", "h001", "--", r"printf '\033]0;pwned\007\033[2J\n'"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "h001:  ^[]0;pwned^G^[[2J\n");
}

#[test]
fn ssh_unreachable_host_exits_3_and_failures_win_with_1() {
    if !sshd_or_skip("ssh_unreachable_host_exits_3_and_failures_win_with_1") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions::default()).unwrap();
    let home = ssh_home(&fleet, &unreachable_host("closed"));

    let out = ssh_run(
        home.path(),
        &fleet,
        &["-t", "h001,closed", "--connect-timeout", "5s", "--", "true"],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("ok 1 · unreachable 1 closed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("  closed: unreachable (connect)"),
        "{}",
        out.stderr
    );

    let out = ssh_run(
        home.path(),
        &fleet,
        &[
            "-t",
            "h001,closed",
            "--connect-timeout",
            "5s",
            "--",
            "exit 1",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("failed 1 h001 · unreachable 1 closed"),
        "{}",
        out.stderr
    );
}

#[test]
fn ssh_dry_run_shows_where_the_ssh_config_sends_each_host() {
    if !sshd_or_skip("ssh_dry_run_shows_where_the_ssh_config_sends_each_host") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions::default()).unwrap();
    let home = ssh_home(&fleet, "");
    let out = ssh_run(
        home.path(),
        &fleet,
        &["-t", "h001", "--dry-run", "--", "uptime"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dest = format!("{}@127.0.0.1:{}", fleet.user(), fleet.port());
    assert!(
        out.stdout
            .contains(&format!("h001  ssh        {dest}  uptime\n")),
        "{}",
        out.stdout
    );
    assert!(!history_file(home.path()).exists());
}

#[test]
fn ssh_ctrl_c_kills_the_remote_command_and_exits_130() {
    if !sshd_or_skip("ssh_ctrl_c_kills_the_remote_command_and_exits_130") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions::default()).unwrap();
    let home = ssh_home(&fleet, "");
    let (cmd, marker, pid_file) = sleeper(home.path());
    let config = fleet.ssh_config_path().to_str().unwrap();
    let args = ["run", "--ssh-config", config, "-t", "h001", "--", &cmd];
    let (status, stderr) = interrupt_once_started(home.path(), &args, &marker, || {
        format!("the remote command never started: {}", fleet.log_tail(20))
    });
    assert_eq!(status.code(), Some(130), "{stderr}");
    let runs = history(home.path());
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "cancelled");
    // The remote shell (same machine: the sshd is on loopback) must be gone, soon.
    let remote = read_pid(&pid_file);
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(remote) {
        assert!(
            Instant::now() < deadline,
            "the cancelled remote command (pid {remote}) is still running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A ProxyJump loop (`Host *` with `ProxyJump gw` also applies to gw) is invalid input found
/// before anything runs: exit 2 naming the hosts, nothing recorded, `--dry-run` included.
#[test]
fn a_proxyjump_loop_is_refused_before_anything_runs() {
    let home = home_with("[[hosts]]\nname = \"web[01-02]\"\n");
    let config = home.path().join("ssh_config");
    fs::write(&config, "Host *\n    ProxyJump gw\n").unwrap();
    let config = config.to_string_lossy().to_string();
    for extra in [&["--dry-run"][..], &["--yes"][..]] {
        let mut args = vec!["run", "-t", "web[01-02]", "--ssh-config", &config];
        args.extend_from_slice(extra);
        args.extend(["--", "true"]);
        let out = run(home.path(), &args);
        assert_eq!(out.code, 2, "{extra:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("ProxyJump loop via `gw` (web01 → gw → gw)"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("1 more host(s)"), "{}", out.stderr);
        assert!(out.stderr.contains("nothing was run"), "{}", out.stderr);
    }
    assert!(!history_file(home.path()).exists());
}

/// Two aliases of the same user@host:port share one pooled connection; when it cannot be made,
/// each host's failure names that host, not the one that tried first.
#[test]
fn aliases_sharing_a_connection_each_fail_under_their_own_name() {
    let port = support::cli::closed_port();
    let entry = |name: &str| {
        format!(
            "[[hosts]]\nname = \"{name}\"\naddress = \"127.0.0.1\"\nport = {port}\nuser = \"ops\"\n"
        )
    };
    let home = home_with(&format!("{}{}", entry("a1"), entry("a2")));
    let out = run(
        home.path(),
        &["run", "-t", "a[1-2]", "--json", "--", "true"],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    let last: Value = serde_json::from_str(out.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "run_finished");
    for h in last["hosts"].as_array().unwrap() {
        let name = h["host"].as_str().unwrap();
        let other = if name == "a1" { "a2" } else { "a1" };
        let message = h["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("{name} (")), "{message}");
        assert!(!message.contains(other), "{name}: {message}");
    }
}

/// A `Match` criterion fleetdeck does not evaluate is said in `--dry-run`, not only logged.
#[test]
fn dry_run_says_which_ssh_config_blocks_are_not_applied() {
    let home = home_with("[[hosts]]\nname = \"web01\"\n");
    let config = home.path().join("ssh_config");
    fs::write(
        &config,
        "Match final\n    Port 8\nHost web01\n    Port 2222\n",
    )
    .unwrap();
    let config = config.to_string_lossy().to_string();
    let out = run(
        home.path(),
        &[
            "run",
            "-t",
            "web01",
            "--ssh-config",
            &config,
            "--dry-run",
            "--",
            "true",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("ssh config notes:"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("Match final is not evaluated by fleetdeck"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(":2222"), "{}", out.stdout);
}
