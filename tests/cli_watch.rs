//! `fleetdeck watch` and `fleetdeck status` from the binary: a watcher on a home with a real
//! agent writes status.json (host up, then an incident when the agent's process watcher fires),
//! serves `[metrics] listen`, turns a second watcher away naming itself, and stops on SIGTERM
//! with exit 0 and its lock released; `status` without a file, with a stale one, as tmux
//! markup and as JSON; the console (in tmux) writes it too. Every process is the test's own, ended by pid; loopback only.

mod support;
#[path = "support/tmux.rs"]
mod tmux;

use std::fs;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::agent::Agent;
use support::cli::{fleetdeck, write_config};

const BIN: &str = env!("CARGO_BIN_EXE_fleetdeck");
/// Liveness bound for anything awaited (never a speed assertion).
const PATIENCE: Duration = Duration::from_secs(60);

fn status_file(home: &Path) -> PathBuf {
    home.join("data/status.json")
}

/// `fleetdeck status ARGS` under `lang`: (exit code, stdout).
fn status(home: &Path, args: &[&str], lang: &str) -> (i32, String) {
    let out = fleetdeck(home)
        .arg("status")
        .args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_CTYPE")
        .env("LANG", lang)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).trim_end().to_string(),
    )
}

fn status_json(home: &Path) -> Value {
    let (code, text) = status(home, &["--json"], "C.UTF-8");
    assert_eq!(code, 0, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A pid that no process has: a child of ours that ended and was reaped.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// A status.json written by hand.
fn write_status(home: &Path, ts: &str, pid: u32) {
    let path = status_file(home);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let doc = serde_json::json!({
        "v": 1, "ts": ts, "writer": "watch", "pid": pid,
        "incidents": { "crit": 2, "warn": 5, "info": 0 },
        "hosts": { "up": 498, "down": 2, "unknown": 0, "total": 500 },
        "runs": { "running": 1, "queued": 0, "paused": 0 },
    });
    fs::write(path, doc.to_string()).unwrap();
}

fn rfc3339_ago(ago: Duration) -> String {
    let t = time::OffsetDateTime::now_utc() - ago;
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[test]
fn status_without_a_file_says_so_and_exits_0() {
    let home = tempfile::tempdir().unwrap();
    let (code, line) = status(home.path(), &[], "C.UTF-8");
    assert_eq!(code, 0);
    assert!(line.starts_with("fleetdeck: no status"), "{line}");
    assert!(line.contains("fleetdeck watch"), "{line}");
    let (code, line) = status(home.path(), &["--tmux"], "C.UTF-8");
    assert_eq!(code, 0);
    assert_eq!(line, "#[fg=colour244]fleetdeck: no status#[default]");
    assert_eq!(
        status_json(home.path()),
        serde_json::json!({ "state": "none" })
    );
    // Nothing was created by asking.
    assert!(!home.path().join("data").exists());
}

#[test]
fn a_live_file_is_one_line_plain_ascii_tmux_and_json() {
    let home = tempfile::tempdir().unwrap();
    // This test's own process: alive for the whole test.
    write_status(
        home.path(),
        &rfc3339_ago(Duration::from_secs(1)),
        std::process::id(),
    );
    let (code, line) = status(home.path(), &[], "C.UTF-8");
    assert_eq!((code, line.as_str()), (0, "✖2 ▲5 · 498/500 up · 1 running"));
    let (_, line) = status(home.path(), &[], "C");
    assert_eq!(line, "!!2 !5 · 498/500 up · 1 running");
    let (_, line) = status(home.path(), &["--tmux"], "C.UTF-8");
    assert_eq!(
        line,
        "#[fg=red,bold]✖2#[default] #[fg=yellow]▲5#[default] · #[fg=red]498/500 up#[default] · 1 running"
    );
    let v = status_json(home.path());
    assert_eq!(v["state"], "live");
    assert_eq!(v["writer"], "watch");
    assert_eq!(v["incidents"]["crit"], 2);
    assert_eq!(v["hosts"]["total"], 500);
}

#[test]
fn a_file_of_a_dead_writer_or_an_old_one_is_stale() {
    let home = tempfile::tempdir().unwrap();
    write_status(
        home.path(),
        &rfc3339_ago(Duration::from_secs(301)),
        dead_pid(),
    );
    let (code, line) = status(home.path(), &[], "C.UTF-8");
    assert_eq!(code, 0);
    assert_eq!(line, "stale 5m · ✖2 ▲5 · 498/500 up · 1 running");
    let (_, line) = status(home.path(), &["--tmux"], "C.UTF-8");
    assert!(
        line.starts_with("#[fg=yellow]stale 5m#[default] · "),
        "{line}"
    );
    let v = status_json(home.path());
    assert_eq!(v["state"], "stale");
    assert_eq!(v["writer_gone"], true);
    // A live writer whose file stopped being refreshed is stale as well.
    write_status(
        home.path(),
        &rfc3339_ago(Duration::from_secs(45)),
        std::process::id(),
    );
    let (_, line) = status(home.path(), &[], "C.UTF-8");
    assert!(line.starts_with("stale 45s · "), "{line}");
    // A damaged file: a short line for the status bar, exit 1.
    fs::write(status_file(home.path()), "{\"v\":").unwrap();
    let (code, line) = status(home.path(), &[], "C.UTF-8");
    assert_eq!((code, line.as_str()), (1, "fleetdeck: status unreadable"));
}

#[test]
fn bad_flags_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let (code, _) = status(home.path(), &["--bogus"], "C.UTF-8");
    assert_eq!(code, 2);
    let (code, _) = status(home.path(), &["--tmux", "--json"], "C.UTF-8");
    assert_eq!(code, 2);
}

/// A process the test owns, found by the agent's process watcher through a unique command
/// line. Killed (by pid) and reaped when dropped.
struct Worker {
    child: Child,
}

impl Worker {
    fn start(marker: &str) -> Worker {
        let child = Command::new("sleep")
            .arg(marker)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Worker { child }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `fleetdeck watch` of ours, stderr into a file; SIGKILLed by pid if the test fails first.
struct Watcher {
    child: Option<Child>,
    log: PathBuf,
}

impl Watcher {
    fn start(home: &Path, log: PathBuf) -> Watcher {
        let err = fs::File::create(&log).unwrap();
        let child = Command::new(BIN)
            .arg("--home")
            .arg(home)
            .arg("watch")
            .env_remove("FLEETDECK_HOME")
            .env_remove("FLEETDECK_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap();
        Watcher {
            child: Some(child),
            log,
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn exited(&mut self) -> Option<i32> {
        let status = self.child.as_mut()?.try_wait().unwrap()?;
        Some(status.code().unwrap_or(-1))
    }

    /// SIGTERM, then its exit code (bounded).
    fn terminate(&mut self) -> i32 {
        let mut child = self.child.take().unwrap();
        // SAFETY: kill(2) on our own child, not yet reaped (so its pid is not reused).
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if start.elapsed() > PATIENCE {
                let _ = child.kill();
                let _ = child.wait();
                panic!("watch did not stop on SIGTERM: {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `status --json` until `done` holds (bounded), failing with the watcher's log.
fn status_until(home: &Path, watcher: &mut Watcher, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        assert_eq!(watcher.exited(), None, "watch exited: {}", watcher.log());
        let v = status_json(home);
        if done(&v) {
            return v;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "never came: {v}\n{}",
            watcher.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A watcher serving `[metrics] listen` on a free loopback port: the port and the watcher.
fn watcher_serving_metrics(home: &Path, dir: &Path) -> (u16, Watcher) {
    let (port, watcher) = support::ready::on_a_free_port(|port| {
        write_config(
            home,
            "config.toml",
            format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
        );
        let mut watcher = Watcher::start(home, dir.join("watch.log"));
        let start = Instant::now();
        loop {
            if let Some(code) = watcher.exited() {
                return Err(std::io::Error::other(format!(
                    "watch exited {code}: {}",
                    watcher.log()
                )));
            }
            if support::ready::answers_200(port, "/metrics") {
                return Ok(watcher);
            }
            assert!(start.elapsed() < PATIENCE, "no /metrics: {}", watcher.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    })
    .unwrap();
    (port, watcher)
}

#[test]
fn watch_collects_writes_status_holds_the_home_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("86398.{}1", std::process::id());
    let worker = Worker::start(&marker);
    let watcher_toml = format!(
        "[[watchers]]\nname = \"worker\"\nkind = \"process\"\ncmdline = \"^sleep {}$\"\n\
         interval = \"100ms\"\nseverity = \"critical\"\n",
        marker.replace('.', "\\\\.")
    );
    let agent = Agent::start(&dir.path().join("a1"), "a1", &watcher_toml);
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), "hosts.toml", agent.hosts_entry("a1"));
    let (_port, mut watcher) = watcher_serving_metrics(home.path(), dir.path());

    // The agent's heartbeats make it up; nothing is open yet.
    let v = status_until(home.path(), &mut watcher, |v| v["hosts"]["up"] == 1);
    assert_eq!(v["state"], "live");
    assert_eq!(v["writer"], "watch");
    assert_eq!(v["pid"], watcher.pid());
    assert_eq!(v["hosts"]["total"], 1);
    assert_eq!(v["incidents"]["crit"], 0);

    // The watched process ends: the agent alerts, the watcher records an incident.
    drop(worker);
    status_until(home.path(), &mut watcher, |v| v["incidents"]["crit"] == 1);
    let (_, line) = status(home.path(), &[], "C.UTF-8");
    assert_eq!(line, "✖1 · 1/1 up");
    let book = fs::read_to_string(home.path().join("data/incidents.jsonl")).unwrap();
    assert!(book.contains("\"opened\""), "{book}");

    // A second watcher is turned away, naming the first.
    let second = fleetdeck(home.path()).arg("watch").output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains(&format!("pid {}", watcher.pid())) && err.contains("watch.lock"),
        "{err}"
    );

    // Logs are JSON lines on stderr.
    let log = watcher.log();
    let started = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["fields"]["message"] == "fleetdeck watch started");
    assert!(started.is_some(), "{log}");

    // SIGTERM: exit 0, the lock free, the file now stale (its writer is gone).
    assert_eq!(watcher.terminate(), 0, "{}", watcher.log());
    let lock = fs::File::open(home.path().join("state/watch.lock")).unwrap();
    // SAFETY: flock on a descriptor we own.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0, "the lock is still held");
    drop(lock);
    assert_eq!(status_json(home.path())["state"], "stale");
    assert!(watcher.log().contains("fleetdeck watch stopped"));
}

#[test]
fn the_console_writes_status_while_it_runs() {
    let home = support::cli::home_with("[[hosts]]\nname = \"lab[1-2]\"\ntransport = \"local\"\n");
    let command = tmux::fleetdeck_command(home.path(), "tui");
    let Some(tmux) = tmux::Tmux::start("fdstatus", home.path(), &command, 100, 30) else {
        return;
    };
    tmux.wait_for("the fleet table", |s| s.contains("lab1"));
    let start = Instant::now();
    let v = loop {
        let v = status_json(home.path());
        if v["state"] == "live" {
            break v;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "no status from the console: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(v["writer"], "console");
    // Local hosts are up: they run as processes here.
    assert_eq!(
        v["hosts"],
        serde_json::json!({"up": 2, "down": 0, "unknown": 0, "total": 2})
    );
    let (_, line) = status(home.path(), &[], "C.UTF-8");
    assert_eq!(line, "✔ · 2/2 up");
    tmux.keys(&["Q"]);
    tmux.wait_gone();
    // The console is gone: its counts are not kept any more (once its process is reaped).
    let start = Instant::now();
    loop {
        let v = status_json(home.path());
        if v["state"] == "stale" {
            assert_eq!(v["writer_gone"], true, "{v}");
            break;
        }
        assert!(start.elapsed() < PATIENCE, "still live: {v}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
