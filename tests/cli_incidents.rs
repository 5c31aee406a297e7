//! `fleetdeck incidents` through the real binary: agent alerts from a real agent's process
//! watcher, many processes writing the book at once, damaged lines, unknown ids, audit.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::agent::Agent;
use support::cli::{fleetdeck, write_config};

const BIN: &str = env!("CARGO_BIN_EXE_fleetdeck");
/// Liveness bound for waiting on an agent's alert (never a speed assertion).
const PATIENCE: Duration = Duration::from_secs(60);

fn book(home: &Path) -> PathBuf {
    home.join("data/incidents.jsonl")
}

fn opened_line(id: &str, fingerprint: &str, title: &str) -> String {
    format!(
        "{{\"v\":1,\"ts\":\"2026-12-07T10:00:00.000Z\",\"id\":\"{id}\",\"event\":\"opened\",\
         \"source\":\"check\",\"fingerprint\":\"{fingerprint}\",\"title\":\"{title}\",\
         \"severity\":\"warning\",\"hosts\":[\"web01\",\"web02\"],\"labels\":{{\"check\":\"{fingerprint}\"}},\
         \"annotations\":{{}},\"at\":\"2026-12-07T10:00:00Z\"}}\n"
    )
}

/// A home whose book holds two open incidents, `abc11111` and `abc22222`.
fn home_with_book() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    fs::create_dir_all(home.path().join("data")).unwrap();
    let text = opened_line("abc11111", "disk", "disk almost full")
        + &opened_line("abc22222", "http", "http check fails");
    fs::write(book(home.path()), text).unwrap();
    home
}

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn audit_lines(home: &Path) -> Vec<Value> {
    match fs::read(home.join("data/audit.jsonl")) {
        Ok(bytes) => json_lines(&bytes),
        Err(_) => Vec::new(),
    }
}

#[test]
fn ack_note_resolve_are_written_and_audited() {
    let home = home_with_book();
    let out = fleetdeck(home.path())
        .args(["incidents", "ack", "ABC1", "--comment", "looking"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("acknowledged incident abc11111"));
    fleetdeck(home.path())
        .args(["incidents", "note", "abc11111", "freed 2 GB"])
        .assert()
        .success();
    fleetdeck(home.path())
        .args(["incidents", "resolve", "abc1", "--comment", "rotated logs"])
        .assert()
        .success();
    // Resolved twice: refused, nothing written.
    let size = fs::metadata(book(home.path())).unwrap().len();
    fleetdeck(home.path())
        .args(["incidents", "resolve", "abc1"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("resolved already"));
    assert_eq!(fs::metadata(book(home.path())).unwrap().len(), size);

    let out = fleetdeck(home.path())
        .args(["incidents", "show", "abc1", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let shown = &json_lines(&out.stdout)[0];
    assert_eq!(shown["state"], "resolved");
    let events: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["opened", "acked", "note", "resolved"]);
    assert_eq!(shown["timeline"][2]["text"], "freed 2 GB");

    // Open and acked by default, all with --all; newest first.
    let listed = |all: bool| {
        let mut cmd = fleetdeck(home.path());
        cmd.args(["incidents", "--offline", "--json"]);
        if all {
            cmd.arg("--all");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        json_lines(&out.stdout)
    };
    let open = listed(false);
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["id"], "abc22222");
    for key in [
        "id",
        "state",
        "severity",
        "source",
        "title",
        "hosts",
        "count",
        "first_seen",
        "last_seen",
        "labels",
    ] {
        assert!(open[0].get(key).is_some(), "{key} in {}", open[0]);
    }
    assert_eq!(open[0]["source"], "check");
    assert_eq!(open[0]["hosts"][1], "web02");
    let all = listed(true);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["id"], "abc11111", "the resolved one was active last");

    let audit = audit_lines(home.path());
    let actions: Vec<&str> = audit
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["incident-ack", "incident-note", "incident-resolve"]
    );
    assert!(
        audit
            .iter()
            .all(|a| a["run_id"] == "abc11111" && a["targets"] == "web[01-02]")
    );
    assert!(audit[1]["what"].as_str().unwrap().contains("freed 2 GB"));

    let table = fleetdeck(home.path())
        .args(["incidents", "--offline"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("ID"), "{text}");
    assert!(
        text.contains("abc22222") && text.contains("http check fails"),
        "{text}"
    );
}

#[test]
fn unknown_or_ambiguous_ids_exit_2_and_write_nothing() {
    let home = home_with_book();
    let before = fs::read(book(home.path())).unwrap();
    for (args, says) in [
        (vec!["incidents", "ack", "zzz"], "no incident with id `zzz`"),
        (vec!["incidents", "ack", "abc"], "ambiguous"),
        (vec!["incidents", "resolve", "nope"], "no incident"),
        (vec!["incidents", "note", "abc", "x"], "ambiguous"),
        (vec!["incidents", "show", "nope"], "no incident"),
        (vec!["incidents", "note", "abc1", "   "], "empty"),
    ] {
        fleetdeck(home.path())
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(says));
    }
    assert_eq!(fs::read(book(home.path())).unwrap(), before);
    assert!(audit_lines(home.path()).is_empty());
}

#[test]
fn damaged_lines_are_skipped_and_named() {
    let home = home_with_book();
    let mut text = fs::read_to_string(book(home.path())).unwrap();
    text.insert_str(
        0,
        "{\"v\":1,\"ts\":\"x\",\"id\":\"q\",\"event\":\"bogus\"}\nnot json at all\n",
    );
    // A title full of escape sequences: shown, never obeyed.
    text.push_str(&opened_line(
        "evil0000",
        "evil",
        "\\u001b]0;pwned\\u0007 \\u001b[2J boom",
    ));
    fs::write(book(home.path()), text).unwrap();
    let out = fleetdeck(home.path())
        .args(["incidents", "--offline"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("incidents.jsonl:1:"), "{stderr}");
    assert!(stderr.contains("incidents.jsonl:2:"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("abc11111") && stdout.contains("abc22222"),
        "{stdout}"
    );
    assert!(stdout.contains("^[]0;pwned^G ^[[2J boom"), "{stdout}");
    assert!(!stdout.contains('\u{1b}'));
    // Still writable: the damage is skipped, not fatal.
    fleetdeck(home.path())
        .args(["incidents", "ack", "abc2"])
        .assert()
        .success();
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

/// An agent on 127.0.0.1 watching for `sleep MARKER`, and a home whose inventory has it as
/// host `a1`.
fn agent_watching(dir: &Path, marker: &str) -> (Agent, tempfile::TempDir) {
    let watcher = format!(
        "[[watchers]]\nname = \"worker\"\nkind = \"process\"\ncmdline = \"^sleep {}$\"\n\
         interval = \"100ms\"\nseverity = \"critical\"\n",
        marker.replace('.', "\\\\.")
    );
    let agent = Agent::start(&dir.join("a1"), "a1", &watcher);
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), "hosts.toml", agent.hosts_entry("a1"));
    (agent, home)
}

/// `incidents --json [--all]` (collecting from the agents) until `done` holds for the list.
fn incidents_until(home: &Path, all: bool, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let mut cmd = fleetdeck(home);
        cmd.args(["incidents", "--json"]);
        if all {
            cmd.arg("--all");
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let list = json_lines(&out.stdout);
        if done(&list) {
            return list;
        }
        assert!(start.elapsed() < PATIENCE, "never came: {list:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn marker(n: u32) -> String {
    format!("86399.{}{n}", std::process::id())
}

#[test]
fn an_agent_alert_opens_an_incident_and_its_resolution_resolves_it() {
    let dir = tempfile::tempdir().unwrap();
    let marker = marker(1);
    let worker = Worker::start(&marker);
    let (_agent, home) = agent_watching(dir.path(), &marker);
    // The watcher sees the process first, so that its end is a change.
    std::thread::sleep(Duration::from_millis(800));
    drop(worker);
    let open = incidents_until(home.path(), false, |l| !l.is_empty());
    assert_eq!(open.len(), 1, "{open:?}");
    let i = &open[0];
    assert_eq!(i["source"], "agent");
    assert_eq!(i["state"], "open");
    assert_eq!(i["severity"], "critical");
    assert_eq!(i["hosts"], serde_json::json!(["a1"]));
    assert_eq!(i["labels"]["watcher"], "worker");
    assert_eq!(i["fingerprint"], "a1/worker");
    let id = i["id"].as_str().unwrap().to_string();

    // Back up: the agent resolves its alert, and with it the incident.
    let _worker = Worker::start(&marker);
    let all = incidents_until(home.path(), true, |l| {
        l.iter()
            .any(|i| i["id"] == id.as_str() && i["state"] == "resolved")
    });
    assert_eq!(all.len(), 1, "still one incident: {all:?}");
    // Recorded once each: a repeat (the agent resending) would not add lines.
    let events: Vec<String> = fs::read_to_string(book(home.path()))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(events, ["opened", "resolved"]);
}

#[test]
fn many_processes_at_once_open_one_incident_and_lose_no_note() {
    let dir = tempfile::tempdir().unwrap();
    let marker = marker(2);
    let worker = Worker::start(&marker);
    let (_agent, home) = agent_watching(dir.path(), &marker);
    std::thread::sleep(Duration::from_millis(800));
    drop(worker);
    // Wait until the agent has the alert in its journal (its heartbeat says so).
    std::thread::sleep(Duration::from_millis(1500));

    // Several collectors at once: every one receives the same undelivered alert.
    let spawn = |args: &[&str]| {
        Command::new(BIN)
            .arg("--home")
            .arg(home.path())
            .args(args)
            .env_remove("FLEETDECK_HOME")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let collectors: Vec<Child> = (0..6).map(|_| spawn(&["incidents", "--json"])).collect();
    for c in collectors {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let open = incidents_until(home.path(), false, |l| !l.is_empty());
    assert_eq!(open.len(), 1, "one incident for one dedup key: {open:?}");
    let id = open[0]["id"].as_str().unwrap().to_string();

    let notes = 12;
    let writers: Vec<Child> = (0..notes)
        .map(|n| spawn(&["incidents", "note", &id, &format!("note {n}")]))
        .collect();
    for w in writers {
        let out = w.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = fleetdeck(home.path())
        .args(["incidents", "show", &id, "--json"])
        .output()
        .unwrap();
    let shown = &json_lines(&out.stdout)[0];
    let mut texts: Vec<String> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["event"] == "note")
        .map(|t| t["text"].as_str().unwrap().to_string())
        .collect();
    texts.sort();
    let mut want: Vec<String> = (0..notes).map(|n| format!("note {n}")).collect();
    want.sort();
    assert_eq!(texts, want);
    // Every line whole, one `opened` in all.
    let text = fs::read_to_string(book(home.path())).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.iter().filter(|l| l["event"] == "opened").count(), 1);
    assert_eq!(audit_lines(home.path()).len(), notes);
}

#[test]
fn an_unreachable_agent_is_reported_and_the_list_still_printed() {
    let dir = tempfile::tempdir().unwrap();
    let mut agent = Agent::start(&dir.path().join("a1"), "a1", "");
    let home = home_with_book();
    write_config(home.path(), "hosts.toml", agent.hosts_entry("gone1"));
    agent.kill();
    let out = fleetdeck(home.path())
        .args(["incidents", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("gone1"), "{stderr}");
    assert_eq!(json_lines(&out.stdout).len(), 2);
}
