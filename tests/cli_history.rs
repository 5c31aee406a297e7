//! `fleetdeck history` through the binary: list, show, rerun --failed, damaged lines.

mod support;

use std::fs;
use std::path::Path;

use serde_json::Value;
use support::cli::{history_file, home_with, run, ssh_home, unreachable_host};

const HOSTS: &str = r#"
[[hosts]]
name = "l[1-4]"
transport = "local"
"#;

/// Runs, newest first, as `history --json` prints them.
fn runs(home: &Path) -> Vec<Value> {
    let out = run(home, &["history", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn host_names(run: &Value, pred: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut names: Vec<String> = run["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| pred(h))
        .map(|h| h["host"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn list_newest_first_and_show_a_run_with_its_output() {
    let home = home_with(HOSTS);
    assert_eq!(
        run(home.path(), &["history"]).stdout,
        "no runs recorded yet\n"
    );
    assert_eq!(
        run(home.path(), &["run", "-t", "l[1-2]", "--", "echo first"]).code,
        0
    );
    let out = run(
        home.path(),
        &["run", "-t", "l3", "--", "echo second; echo bad >&2; exit 5"],
    );
    assert_eq!(out.code, 1);

    let list = run(home.path(), &["history"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert!(lines[0].starts_with("ID  "), "{}", list.stdout);
    let words = |line: &str| {
        line.split_whitespace()
            .skip(4)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(
        words(lines[1]).starts_with("failed failed 1 l3 echo second"),
        "{}",
        list.stdout
    );
    assert_eq!(
        words(lines[2]),
        "ok ok 2 l[1-2] echo first",
        "{}",
        list.stdout
    );
    let limited = run(home.path(), &["history", "--limit", "1"]);
    assert_eq!(limited.stdout.lines().count(), 2, "{}", limited.stdout);

    let all = runs(home.path());
    assert_eq!(all.len(), 2);
    let id = all[0]["id"].as_str().unwrap();
    // A unique prefix, in lower case, is enough.
    let show = run(home.path(), &["history", "show", &id[..14].to_lowercase()]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(
        show.stdout.starts_with(&format!("run      {id}\n")),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("l3    failed  5 "), "{}", show.stdout);
    assert!(show.stdout.contains("exit 5: bad"), "{}", show.stdout);
    // stdout and stderr travel on separate pipes, so their relative order is
    // not fixed: compare the section's lines as a set.
    let section = show.stdout.rsplit("--- l3\n").next().unwrap_or_default();
    let mut got: Vec<&str> = section.lines().collect();
    got.sort_unstable();
    assert_eq!(got, ["! bad", "second"], "{}", show.stdout);

    let json = run(home.path(), &["history", "show", id, "--json"]);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["run"]["id"], id);
    assert_eq!(doc["output"][0]["host"], "l3");
    let data: String = doc["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["data"].as_str().unwrap())
        .collect();
    assert!(
        data.contains("second\n") && data.contains("bad\n"),
        "{data}"
    );
}

#[test]
fn unknown_and_ambiguous_ids_exit_2() {
    let home = home_with(HOSTS);
    for _ in 0..2 {
        assert_eq!(run(home.path(), &["run", "-t", "l1", "--", "true"]).code, 0);
    }
    let out = run(home.path(), &["history", "show", "ZZZZZZ"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("no run with id `ZZZZZZ`"),
        "{}",
        out.stderr
    );
    // Every ULID of this era starts with 0.
    let out = run(home.path(), &["history", "show", "0"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("ambiguous"), "{}", out.stderr);
    let out = run(home.path(), &["history", "rerun", "0", "--failed"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        runs(home.path()).len(),
        2,
        "nothing may run on invalid input"
    );
}

#[test]
fn rerun_failed_targets_exactly_the_hosts_that_did_not_end_ok() {
    let home = home_with(HOSTS);
    let lock = home.path().join("lock");
    // One host wins the mkdir; the other three fail.
    let cmd = format!("mkdir {} 2>/dev/null || exit 1", lock.display());
    assert_eq!(
        run(home.path(), &["run", "-t", "l[1-4]", "--", &cmd]).code,
        1
    );
    let first = runs(home.path()).remove(0);
    let failed = host_names(&first, |h| h["state"] != "ok");
    assert_eq!(failed.len(), 3);
    let id = first["id"].as_str().unwrap();

    // The lock is still there: the rerun fails again, on exactly those hosts.
    let out = run(
        home.path(),
        &["history", "rerun", id, "--failed", "--gather"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("on the 3 host(s) that did not end ok"),
        "{}",
        out.stderr
    );
    let second = runs(home.path()).remove(0);
    assert_ne!(second["id"], first["id"]);
    assert_eq!(host_names(&second, |_| true), failed);
    assert_eq!(second["command"], first["command"]);
    // The rerun is an operator action in audit.jsonl, naming the run it repeats.
    let audit = fs::read_to_string(home.path().join("data/audit.jsonl")).unwrap();
    let rerun_line: Value = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l["action"] == "rerun")
        .expect("a rerun line in audit.jsonl");
    assert_eq!(rerun_line["run_id"], first["id"]);
    assert_eq!(rerun_line["count"], 3);
    assert!(rerun_line["who"].as_str().unwrap().contains('@'));

    // Now it succeeds; a rerun of that run has nothing to do.
    fs::remove_dir(&lock).unwrap();
    let second_id = second["id"].as_str().unwrap().to_string();
    let cmd_ok = "true";
    assert_eq!(
        run(home.path(), &["run", "-t", "l[1-2]", "--", cmd_ok]).code,
        0
    );
    let ok_id = runs(home.path())[0]["id"].as_str().unwrap().to_string();
    let out = run(home.path(), &["history", "rerun", &ok_id, "--failed"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("nothing to rerun"), "{}", out.stdout);
    assert_eq!(runs(home.path()).len(), 3);

    // Skipped hosts (max-fail) count as not ok.
    let out = run(
        home.path(),
        &[
            "run",
            "-t",
            "l[1-4]",
            "--fanout",
            "1",
            "--max-fail",
            "1",
            "--",
            "exit 1",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("skipped 3"), "{}", out.stderr);
    let capped = runs(home.path()).remove(0);
    let out = run(
        home.path(),
        &[
            "history",
            "rerun",
            capped["id"].as_str().unwrap(),
            "--failed",
            "--json",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let rerun = runs(home.path()).remove(0);
    assert_eq!(host_names(&rerun, |_| true), ["l1", "l2", "l3", "l4"]);
    let _ = second_id;
}

#[test]
fn a_damaged_history_line_is_reported_and_skipped() {
    let home = home_with(HOSTS);
    assert_eq!(
        run(home.path(), &["run", "-t", "l1", "--", "echo one"]).code,
        0
    );
    let path = history_file(home.path());
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("{this is not json\n");
    fs::write(&path, text).unwrap();
    assert_eq!(
        run(home.path(), &["run", "-t", "l2", "--", "echo two"]).code,
        0
    );

    let out = run(home.path(), &["history"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    assert!(out.stdout.contains("echo one") && out.stdout.contains("echo two"));
    assert!(out.stderr.contains("warning"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("history.jsonl:2: skipped a damaged line"),
        "{}",
        out.stderr
    );
}

/// Over SSH: the unreachable host (a closed port) and the failed one are rerun, the ok ones
/// are not; the rerun's options (--ssh-config) apply.
#[test]
fn ssh_rerun_failed_takes_unreachable_and_failed_hosts() {
    use support::sshd::{FleetOptions, SshdFleet, sshd_or_skip};
    if !sshd_or_skip("ssh_rerun_failed_takes_unreachable_and_failed_hosts") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions::default()).unwrap();
    let home = ssh_home(&fleet, &unreachable_host("gone"));
    let config = fleet.ssh_config_path().to_str().unwrap().to_string();
    let lock = home.path().join("lock");
    fs::create_dir(&lock).unwrap();
    // The one host that removes the lock fails; then the lock is gone and the command passes.
    let cmd_first = format!("rmdir {} 2>/dev/null && exit 9; exit 0", lock.display());
    let out = run(
        home.path(),
        &[
            "run",
            "--ssh-config",
            &config,
            "-t",
            "all",
            "--",
            &cmd_first,
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let first = runs(home.path()).remove(0);
    let not_ok = host_names(&first, |h| h["state"] != "ok");
    assert_eq!(not_ok.len(), 2, "{first}");
    assert!(not_ok.contains(&"gone".to_string()), "{first}");

    let id = first["id"].as_str().unwrap();
    let out = run(
        home.path(),
        &["history", "rerun", id, "--failed", "--ssh-config", &config],
    );
    // The failed host passes now; the closed port is still unreachable.
    assert_eq!(out.code, 3, "{}", out.stderr);
    let second = runs(home.path()).remove(0);
    assert_eq!(host_names(&second, |_| true), not_ok);
    assert_eq!(second["command"].as_str(), Some(cmd_first.as_str()));
}

/// history.jsonl lines as fleetdeck wrote them while the run's status was a string still
/// read, and `history --json` gives the same words back.
#[test]
fn history_written_before_the_status_enum_still_reads() {
    let home = home_with(HOSTS);
    let path = history_file(home.path());
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let lines = [
        r#"{"v":1,"ts":"2025-07-01T10:00:02Z","command":"uptime","finished":"2025-07-01T10:00:02Z","hosts":[{"bytes_err":0,"bytes_out":40,"duration_ms":12,"exit_code":0,"host":"l1","state":"ok"},{"bytes_err":0,"bytes_out":0,"duration_ms":3,"first_error_line":"connection refused","host":"l2","kind":"connect","message":"connection refused","state":"unreachable"}],"id":"01JZ8Q6S0V5Y3M2K4N7P9R1T3W","selector":"l[1-2]","started":"2025-07-01T10:00:00Z","status":"unreachable","targets":"l[1-2]","user":"ops@deck"}"#,
        r#"{"v":1,"ts":"2025-07-01T11:00:05Z","command":"sleep 60","finished":"2025-07-01T11:00:05Z","hosts":[{"bytes_err":0,"bytes_out":0,"duration_ms":5000,"host":"l3","state":"cancelled"}],"id":"01JZ8TXS0V5Y3M2K4N7P9R1T3X","selector":"l3","started":"2025-07-01T11:00:00Z","status":"cancelled","targets":"l3","user":"ops@deck"}"#,
    ];
    fs::write(&path, format!("{}\n{}\n", lines[0], lines[1])).unwrap();

    let listed = runs(home.path());
    let statuses: Vec<&str> = listed
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["cancelled", "unreachable"]);
    let out = run(home.path(), &["history"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    assert!(out.stdout.contains("unreachable"), "{}", out.stdout);
    let out = run(home.path(), &["history", "show", "01JZ8Q6S0V5Y"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("status   unreachable"),
        "{}",
        out.stdout
    );
}
