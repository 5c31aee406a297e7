//! `fleetdeck demo`: real agents on loopback behind a generated home. Non-interactive
//! (`--print-home`, driven with `fleetdeck run`) and the real console in tmux; either way every
//! agent it started is gone afterwards, and so is the temporary home.

#[path = "support/tmux.rs"]
mod tmux;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_fleetdeck");
const PATIENCE: Duration = Duration::from_secs(30);

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

fn wait_until(what: &str, pred: impl Fn() -> bool) {
    let start = Instant::now();
    while !pred() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The demo folders under a TMPDIR (one per demo run).
fn demo_roots(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("fleetdeck-demo-"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `fleetdeck demo --hosts N --print-home` with TMPDIR=`tmp`: the process, the home and the
/// agents' pids, once it says `ready`.
fn start_print_home(tmp: &Path, hosts: u32) -> (Child, PathBuf, Vec<u32>) {
    let mut demo = Command::new(BIN)
        .args(["demo", "--hosts", &hosts.to_string(), "--print-home"])
        .env("TMPDIR", tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = demo.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let done = line == "ready";
            let _ = tx.send(line);
            if done {
                break;
            }
        }
    });
    let mut home = None;
    let mut pids = Vec::new();
    loop {
        let line = rx
            .recv_timeout(PATIENCE)
            .expect("the demo prints its home and agents");
        if let Some(h) = line.strip_prefix("home ") {
            home = Some(PathBuf::from(h));
        } else if let Some(rest) = line.strip_prefix("agent ") {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            assert_eq!(parts[1], "pid", "{line}");
            pids.push(parts[2].parse::<u32>().unwrap());
            assert!(
                parts[4].starts_with("wss://127.0.0.1:"),
                "TLS on loopback: {line}"
            );
        } else if line == "ready" {
            break;
        }
    }
    assert_eq!(pids.len(), hosts as usize);
    assert!(pids.iter().all(|p| alive(*p)));
    (demo, home.unwrap(), pids)
}

fn wait_exit(demo: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = demo.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < PATIENCE, "the demo did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_stops_the_agents_and_removes_the_home() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut demo, home, pids) = start_print_home(tmp.path(), 2);
    assert!(home.exists());
    // SAFETY: signalling the demo process this test started.
    unsafe {
        libc::kill(demo.id() as i32, libc::SIGTERM);
    }
    let status = wait_exit(&mut demo);
    assert!(!status.success(), "{status:?}");
    for pid in &pids {
        assert!(!alive(*pid), "agent {pid} outlived the demo");
    }
    assert!(
        demo_roots(tmp.path()).is_empty(),
        "the temporary home is removed"
    );
}

#[test]
fn print_home_runs_on_the_demo_fleet_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut demo, home, pids) = start_print_home(tmp.path(), 3);

    let hosts = std::fs::read_to_string(home.join("config/hosts.toml")).unwrap();
    assert!(hosts.contains("fingerprint = \"sha256:"), "pinned: {hosts}");
    demo_actions_load_and_run(&home);

    let out = Command::new(BIN)
        .arg("--home")
        .arg(&home)
        .args(["run", "-t", "demo[01-03]", "--yes", "--", "echo hi from $0"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["demo01", "demo02", "demo03"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("{name}:")) && l.ends_with("hi from sh")),
            "{text}"
        );
    }
    let out = Command::new(BIN)
        .arg("--home")
        .arg(&home)
        .args(["hosts", "-t", "env:prod"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("demo01"));

    // Closing stdin ends the demo: agents stopped, temporary home removed.
    drop(demo.stdin.take());
    let status = wait_exit(&mut demo);
    assert!(status.success(), "{status:?}");
    for pid in &pids {
        assert!(!alive(*pid), "agent {pid} outlived the demo");
    }
    assert!(
        demo_roots(tmp.path()).is_empty(),
        "the temporary home is removed"
    );
}

/// `fleetdeck --home HOME ARGS…` with its exit code, stdout and stderr.
fn fleetdeck(home: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("FLEETDECK_HOME")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The demo home's actions are the shipped examples, every one loads, and the agents' policy
/// lets them run: a shell command (disk-usage, log-tail-grep) and an agent operation
/// (file-validation).
fn demo_actions_load_and_run(home: &Path) {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/actions");
    let mut written: Vec<String> = std::fs::read_dir(home.join("config/actions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written.len(), 7, "{written:?}");
    let demo_examples = examples.with_file_name("demo");
    for file in &written {
        let shipped = if file == "restart-demo-web.toml" {
            demo_examples.join(file)
        } else {
            examples.join(file)
        };
        assert_eq!(
            std::fs::read_to_string(home.join("config/actions").join(file)).unwrap(),
            std::fs::read_to_string(shipped).unwrap(),
            "{file} is a copy of the shipped example"
        );
    }
    let (code, list, err) = fleetdeck(home, &["actions"]);
    assert_eq!(code, Some(0), "{list}{err}");
    assert!(list.contains("7 actions in"), "{list}");
    // The demo's runbooks.toml and every other file pass `fleetdeck check`.
    let (code, out, err) = fleetdeck(home, &["check"]);
    assert_eq!(code, Some(0), "{out}{err}");

    let (code, out, err) = fleetdeck(
        home,
        &[
            "run",
            "-t",
            "demo[01-03]",
            "--yes",
            "--action",
            "disk-usage",
            "-p",
            "max_percent=100",
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out.matches(" used ").count(), 3, "{out}");

    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("app.log");
    std::fs::write(&log, "start\nERROR disk full\nok\n").unwrap();
    let path = format!("path={}", log.display());
    let (code, out, err) = fleetdeck(
        home,
        &[
            "run",
            "-t",
            "demo01",
            "--yes",
            "--action",
            "log-tail-grep",
            "-p",
            &path,
            "-p",
            "pattern=ERROR",
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("ERROR disk full") && !out.contains("start"),
        "{out}"
    );

    let dump = data.path().join("backup.dump");
    std::fs::write(&dump, vec![7u8; 2 * 1024 * 1024 + 10]).unwrap();
    let path = format!("path={}", dump.display());
    let (code, out, err) = fleetdeck(
        home,
        &[
            "run",
            "-t",
            "demo02",
            "--yes",
            "--action",
            "file-validation",
            "-p",
            &path,
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("size_gt_mb"), "{out}");
}

/// `fleetdeck demo ARGS` with TMPDIR=`tmp`, in a 120×32 tmux server of its own.
fn start_in_tmux(tmp: &Path, args: &str) -> Option<Tmux> {
    let command = format!("TMPDIR={} {BIN} demo {args}", tmp.display());
    Tmux::start("fddemo", tmp, &command, 120, 32)
}

#[test]
fn the_demo_opens_the_console_runs_and_stops_every_agent_on_quit() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(tmux) = start_in_tmux(tmp.path(), "--hosts 3") else {
        return;
    };
    // The whole first frame: the table and the status bar (a capture may catch a frame
    // half drawn).
    tmux.wait_for("the demo fleet", |s| {
        s.contains("demo01") && s.contains("demo03") && s.contains("3/3 hosts")
    });
    let roots = demo_roots(tmp.path());
    assert_eq!(roots.len(), 1, "{roots:?}");
    let pids: Vec<u32> = ["demo01", "demo02", "demo03"]
        .iter()
        .map(|n| {
            std::fs::read_to_string(roots[0].join("agents").join(n).join("agent.pid"))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(pids.iter().all(|p| alive(*p)));
    // The console connects to its agents at start (heartbeats flow before any run).
    tmux.wait_for("every agent connected", |s| s.contains("3 pooled"));

    // demo02 is in staging (no typed confirmation needed): run on it through its agent.
    tmux.keys(&["/", "d", "e", "m", "o", "0", "2", "Enter", "Space"]);
    tmux.wait_for("one mark", |s| s.contains("1 marked"));
    tmux.keys(&[":", "run echo agent says hi", "Enter"]);
    tmux.wait_for("the confirmation", |s| s.contains("Run on 1 host: demo02"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the run to succeed", |s| s.contains("ok 1"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("demo02's output", |s| s.contains("agent says hi"));

    tmux.keys(&["Escape", "Q"]);
    tmux.wait_gone();
    for pid in &pids {
        wait_until("the agents to stop", || !alive(*pid));
    }
    wait_until("the temporary home to go", || {
        demo_roots(tmp.path()).is_empty()
    });
}

/// `fleetdeck incidents --all --json` of the demo home, as parsed lines.
fn incidents(home: &Path) -> Vec<serde_json::Value> {
    let (code, out, err) = fleetdeck(home, &["incidents", "--all", "--json"]);
    assert_eq!(code, Some(0), "{out}{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// The story README's tour tells, from the command line: the demo starts with its web service
/// stopped on demo02 and demo03, their agents' process watchers raise two incidents, the
/// runbook's action starts the service again on exactly those hosts, and the incidents
/// resolve by themselves. Every service is gone after the demo.
#[test]
fn the_demo_opens_with_two_incidents_that_the_runbook_action_fixes() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut demo, home, pids) = start_print_home(tmp.path(), 4);
    let web = |i: &serde_json::Value| i["labels"]["watcher"] == "web";

    let start = Instant::now();
    let opened = loop {
        let open: Vec<_> = incidents(&home)
            .into_iter()
            .filter(|i| web(i) && i["state"] == "open")
            .collect();
        if open.len() == 2 {
            break open;
        }
        assert!(start.elapsed() < PATIENCE, "two web incidents: {open:?}");
        std::thread::sleep(Duration::from_millis(300));
    };
    let mut hosts: Vec<String> = opened
        .iter()
        .map(|i| i["hosts"][0].as_str().unwrap().to_string())
        .collect();
    hosts.sort();
    assert_eq!(hosts, ["demo02", "demo03"]);
    assert!(
        opened
            .iter()
            .all(|i| i["severity"] == "critical" && i["source"] == "agent")
    );

    let (code, out, err) = fleetdeck(
        &home,
        &[
            "run",
            "-t",
            "demo[02-03]",
            "--yes",
            "--action",
            "restart-demo-web",
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");

    let start = Instant::now();
    loop {
        let all = incidents(&home);
        let resolved = all
            .iter()
            .filter(|i| web(i) && i["state"] == "resolved")
            .count();
        if resolved == 2 {
            break;
        }
        assert!(start.elapsed() < PATIENCE, "the incidents resolve: {all:?}");
        std::thread::sleep(Duration::from_millis(300));
    }

    // The services the action started, by the pids they recorded.
    let services: Vec<u32> = ["demo02", "demo03"]
        .iter()
        .map(|h| {
            let pid = std::fs::read_to_string(
                home.parent()
                    .unwrap()
                    .join("agents")
                    .join(h)
                    .join("service.pid"),
            )
            .unwrap();
            pid.trim().parse().unwrap()
        })
        .collect();
    assert!(services.iter().all(|p| alive(*p)));
    drop(demo.stdin.take());
    let status = wait_exit(&mut demo);
    assert!(status.success(), "{status:?}");
    for pid in pids.iter().chain(&services) {
        wait_until(&format!("process {pid} to end"), || !alive(*pid));
    }
}

/// README's tour in the console: view 4 shows the demo's two incidents (and nothing for the
/// healthy demo01); the detail shows the runbook; `x` opens its action for both hosts, enter
/// and the confirmation run it; the run is written on both timelines and the incidents
/// resolve by themselves.
#[test]
fn in_the_console_the_runbook_key_fixes_the_demo_incidents() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(tmux) = start_in_tmux(tmp.path(), "--hosts 3") else {
        return;
    };
    tmux.wait_for("every agent connected", |s| {
        s.contains("3/3 hosts") && s.contains("3 pooled")
    });
    let home = demo_roots(tmp.path())[0].join("home");
    let rows = |s: &str, state: &str| {
        s.lines()
            .filter(|l| l.contains(&format!(" {state} ")))
            .filter(|l| l.contains("demo02") || l.contains("demo03"))
            .count()
    };
    tmux.keys(&["4"]);
    let list = tmux.wait_for("the two incidents", |s| rows(s, "open") == 2);
    assert!(
        list.contains("incidents 2/2"),
        "only demo02 and demo03:\n{list}"
    );
    assert!(!list.contains("demo01"), "{list}");

    tmux.keys(&["Enter"]);
    tmux.wait_for("the runbook in the detail", |s| {
        s.contains("restart-demo-web") && s.contains("x opens it")
    });
    tmux.keys(&["x"]);
    tmux.wait_for("the action's form for both hosts", |s| {
        s.contains("action restart-demo-web") && s.contains("2 host(s) demo[02-03]")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("the confirmation", |s| s.contains("run action?"));
    tmux.keys(&["Enter"]);
    let written = tmux.wait_for("the run written on the incidents", |s| {
        s.contains("written on incidents")
    });
    assert!(written.contains("ok on demo[02-03]"), "{written}");

    // The detail opened before is shown again: resolved, with the run on its timeline.
    tmux.keys(&["4"]);
    tmux.wait_for("the incident resolved, the run on its timeline", |s| {
        s.contains("resolved") && s.contains("action_run") && s.contains("cleared at the source")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("both incidents resolved", |s| rows(s, "resolved") == 2);

    // The book says the same: each incident has the run and resolved after it.
    let (code, out, err) = fleetdeck(&home, &["incidents", "--all", "--json", "--offline"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let ids: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|i| i["labels"]["watcher"] == "web")
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2, "{out}");
    for id in &ids {
        let (code, out, err) = fleetdeck(&home, &["incidents", "show", id, "--json"]);
        assert_eq!(code, Some(0), "{out}{err}");
        let shown: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        let events: Vec<&str> = shown["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap())
            .collect();
        assert_eq!(events, ["opened", "action_run", "resolved"], "{out}");
        assert_eq!(shown["state"], "resolved");
    }

    tmux.keys(&["Q"]);
    tmux.wait_gone();
    wait_until("the temporary home to go", || {
        demo_roots(tmp.path()).is_empty()
    });
}
