//! A `fleetdeck run` killed with `kill -9` mid-run: the next fleetdeck command that opens the
//! home records it once as `interrupted` (the host that ended as it ended, the others
//! `unknown`), audits it, and `history rerun ID --failed` reruns exactly the hosts not known
//! to be ok. A run still in flight in a living process is left alone.

mod support;

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::cli::{home_with, run};

const HOSTS: &str = "[[hosts]]\nname = \"l[1-3]\"\ntransport = \"local\"\n";
const BOUND: Duration = Duration::from_secs(60);

fn wait_until(what: &str, pred: impl Fn() -> bool) {
    let start = Instant::now();
    while !pred() {
        assert!(start.elapsed() < BOUND, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn runs(home: &Path) -> (Vec<Value>, String) {
    let out = run(home, &["history", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let runs = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (runs, out.stderr)
}

fn kill(pid: i32, signal: i32) {
    // Never a process group or "every process": only a real pid.
    if pid <= 1 {
        return;
    }
    // SAFETY: kill(2) on a process this test started (or one it started recorded its pid).
    unsafe { libc::kill(pid, signal) };
}

#[test]
fn a_run_killed_mid_run_is_recorded_once_as_interrupted() {
    let home = home_with(HOSTS);
    let dir = home.path().join("work");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("block"), "").unwrap();
    // l1 ends at once; l2 and l3 record their pid and wait while `block` exists.
    let command = format!(
        "cd {}; if [ \"$FLEETDECK_HOST\" = l1 ]; then echo quick; \
         else echo $$ > pid-$FLEETDECK_HOST; while [ -e block ]; do sleep 0.2; done; fi",
        dir.display()
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .arg("--home")
        .arg(home.path())
        .env_remove("FLEETDECK_HOME")
        .args(["run", "-t", "l[1-3]", "--", &command])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let running = home.path().join("state/running");
    let ends_l1 = || {
        fs::read_dir(&running)
            .map(|rd| {
                rd.flatten().any(|e| {
                    e.path().to_string_lossy().ends_with(".ends.jsonl")
                        && fs::read_to_string(e.path())
                            .unwrap_or_default()
                            .contains("\"l1\"")
                })
            })
            .unwrap_or(false)
    };
    wait_until("l1 to end and l2, l3 to start", || {
        ends_l1() && dir.join("pid-l2").exists() && dir.join("pid-l3").exists()
    });

    // In flight in a living process: nothing to record yet.
    let (before, note) = runs(home.path());
    assert!(before.is_empty(), "{before:?}");
    assert!(!note.contains("interrupted"), "{note}");

    kill(child.id() as i32, libc::SIGKILL);
    let _ = child.wait();
    // The commands it left behind, by the pids they wrote.
    for h in ["l2", "l3"] {
        let pid: i32 = fs::read_to_string(dir.join(format!("pid-{h}")))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        kill(pid, libc::SIGKILL);
    }

    let (after, note) = runs(home.path());
    assert_eq!(after.len(), 1, "{after:?}");
    let r = &after[0];
    assert!(note.contains("was interrupted"), "{note}");
    assert!(note.contains(r["id"].as_str().unwrap()), "{note}");
    assert_eq!(r["status"], "interrupted");
    let state = |h: &str| {
        r["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["host"] == h)
            .map(|x| x["state"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(state("l1"), "ok");
    assert_eq!(state("l2"), "unknown");
    assert_eq!(state("l3"), "unknown");
    assert!(
        fs::read_dir(&running).unwrap().next().is_none(),
        "the marker is gone"
    );
    let audit = fs::read_to_string(home.path().join("data/audit.jsonl")).unwrap();
    let lines: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &Value| l["run_id"] == r["id"])
        .collect();
    let results: Vec<&str> = lines
        .iter()
        .map(|l| l["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["started", "interrupted"], "{audit}");

    // Once: the next command finds nothing more to record.
    let (again, note) = runs(home.path());
    assert_eq!(again.len(), 1);
    assert!(!note.contains("interrupted"), "{note}");
    let out = run(home.path(), &["history", "show", r["id"].as_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("interrupted"), "{}", out.stdout);

    // The hosts not known to be ok are rerun.
    fs::remove_file(dir.join("block")).unwrap();
    let out = run(
        home.path(),
        &["history", "rerun", r["id"].as_str().unwrap(), "--failed"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (latest, _) = runs(home.path());
    let mut hosts: Vec<&str> = latest[0]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    hosts.sort();
    assert_eq!(hosts, ["l2", "l3"]);
}

/// A standalone reader (the wallboard's) shows another process's run in flight from its
/// marker, and stops showing it once that process is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_sees_another_process_run_in_flight() {
    use fleetdeck::config::{Home, Settings};
    use fleetdeck::engine::FleetReader;
    let home = home_with(HOSTS);
    let dir = home.path().join("work");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("block"), "").unwrap();
    let command = format!(
        "cd {}; echo $$ > pid-$FLEETDECK_HOST; while [ -e block ]; do sleep 0.2; done",
        dir.display()
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .arg("--home")
        .arg(home.path())
        .env_remove("FLEETDECK_HOME")
        .args(["run", "-t", "l[1-2]", "--", &command])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let h = Home::under(home.path());
    let hosts = fleetdeck::inventory::load::load(&h.hosts_file())
        .unwrap()
        .hosts()
        .to_vec();
    let reader = FleetReader::open(&h, &Settings::default(), hosts);
    let start = Instant::now();
    let running = loop {
        let snap = reader.snapshot();
        if let Some(r) = snap.queue.running.first() {
            break r.clone();
        }
        assert!(start.elapsed() < BOUND, "{:?}", snap.queue);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(running.hosts, 2);
    assert!(
        running.command.contains("while [ -e block ]"),
        "{}",
        running.command
    );

    // The run ends normally: no longer in flight.
    fs::remove_file(dir.join("block")).unwrap();
    let _ = child.wait();
    let start = Instant::now();
    while !reader.snapshot().queue.running.is_empty() {
        assert!(start.elapsed() < BOUND, "still shown as running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The run ended normally: its commands ended with it (the loop saw `block` go).
}
