//! `fleetdeck hosts`, `paths` and logging, through the binary.

mod support;

use std::fs;
use std::os::unix::fs::MetadataExt;

use assert_cmd::Command;
use support::cli::{fleetdeck, home_with};

const INVENTORY: &str = r#"
[defaults]
user = "deploy"
env = "prod"

[[hosts]]
name = "web[01-20]"
address = "10.0.1.[1-20]"
tags = ["web", "nginx"]
groups = ["frontend"]

[[hosts]]
name = "web[21-24]"
env = "staging"
tags = ["web"]

[[hosts]]
name = "db[1-3]"
groups = ["database"]
port = 2222

[[hosts]]
name = "builder"
transport = "local"
env = "ci"
"#;

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn design_example_selects_exactly_the_hosts_meant() {
    let home = home_with(INVENTORY);
    let text = stdout(fleetdeck(home.path()).args(["hosts", "-t", "web[01-20]&env:prod!web07"]));
    assert!(text.contains("web01  10.0.1.1"), "{text}");
    assert!(!text.contains("web07"), "{text}");
    assert!(
        text.trim_end().ends_with("19 hosts: web[01-06,08-20]"),
        "{text}"
    );
}

#[test]
fn json_lists_hosts_with_folded_summary() {
    let home = home_with(INVENTORY);
    let text = stdout(fleetdeck(home.path()).args(["hosts", "-t", "@database,builder", "--json"]));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["count"], 4);
    assert_eq!(doc["folded"], "builder,db[1-3]");
    assert_eq!(doc["hosts"][0]["name"], "db1");
    assert_eq!(doc["hosts"][0]["port"], 2222);
    assert_eq!(doc["hosts"][3]["transport"], "local");
}

#[test]
fn several_targets_are_a_union_and_unknown_names_are_ssh_destinations() {
    let home = home_with(INVENTORY);
    let text = stdout(fleetdeck(home.path()).args(["hosts", "-t", "web24", "-t", "db1,bastion9"]));
    assert!(text.contains("bastion9  (ssh config)"), "{text}");
    assert!(
        text.trim_end().ends_with("3 hosts: bastion9,db1,web24"),
        "{text}"
    );
}

#[test]
fn no_selector_lists_every_host() {
    let home = home_with(INVENTORY);
    let text = stdout(fleetdeck(home.path()).arg("hosts"));
    assert!(
        text.trim_end()
            .ends_with("28 hosts: builder,db[1-3],web[01-24]"),
        "{text}"
    );
}

#[test]
fn unknown_group_points_at_its_column_and_exits_2() {
    let home = home_with(INVENTORY);
    let out = fleetdeck(home.path())
        .args(["hosts", "-t", "web[01-20]&@dbx"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown group `@dbx` at column 12"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  web[01-20]&@dbx\n             ^"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn malformed_selector_exits_2() {
    let home = home_with(INVENTORY);
    for bad in [
        "web[3-1]",
        "web[01-",
        "web,,db",
        "transport:telnet",
        "~(unclosed",
    ] {
        let out = fleetdeck(home.path())
            .args(["hosts", "-t", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("column"), "{bad}: {stderr}");
    }
}

#[test]
fn caret_is_the_symmetric_difference_of_node_sets() {
    // Issue 17: this once targeted made-up hosts such as `web01^web02`.
    let home = home_with(INVENTORY);
    let text = stdout(fleetdeck(home.path()).args(["hosts", "-t", "web[01-03]^web[02-04]"]));
    assert!(text.trim_end().ends_with("2 hosts: web[01,04]"), "{text}");
    assert!(text.contains("web01  10.0.1.1"), "{text}");
    // Names outside the inventory: the same set, as plain ssh destinations.
    let text = stdout(fleetdeck(home.path()).args(["hosts", "-t", "gpu[01-03]^gpu[02-04]"]));
    assert!(text.contains("gpu01  (ssh config)"), "{text}");
    assert!(text.trim_end().ends_with("2 hosts: gpu[01,04]"), "{text}");
    assert!(!text.contains('^'), "{text}");
}

#[test]
fn bad_metric_terms_exit_2_before_anything_is_sampled() {
    // Addresses outside loopback: a term that got as far as sampling would try them.
    let home = home_with(INVENTORY);
    for (sel, needle) in [
        (
            "cpux>9",
            "unknown metric `cpux` at column 1 (did you mean `cpu>9`?)",
        ),
        ("cpu>abc", "invalid number `abc`"),
        (">90", "comparison `>90` without a metric"),
    ] {
        let out = fleetdeck(home.path())
            .args(["hosts", "-t", sel])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{sel}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{sel}: {stderr}");
        assert!(out.stdout.is_empty(), "{sel}");
    }
}

#[test]
fn metric_terms_are_evaluated_on_a_fresh_sample() {
    // Local hosts without an exporter cannot be sampled: they are stale, and no comparison
    // matches them.
    let home = home_with(
        "[[hosts]]\nname = \"l[1-2]\"\ntransport = \"local\"\n\n[[hosts]]\nname = \"l3\"\ntransport = \"local\"\nenv = \"other\"\n",
    );
    let out = fleetdeck(home.path())
        .args(["hosts", "-t", "stale!env:other", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["folded"], "l[1-2]");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Only what the rest of the selector left in reach was sampled.
    assert!(
        stderr.contains("sampled 0 host(s) for `stale!env:other`; 2 could not be sampled"),
        "{stderr}"
    );
    let out = fleetdeck(home.path())
        .args(["hosts", "-t", "l1,cpu>=0", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["folded"], "l1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("node_exporter"), "{stderr}");
}

#[test]
fn broken_inventory_exits_2_with_position() {
    let home = home_with("[[hosts]]\nname = \"a\"\nuser = 7\n");
    let out = fleetdeck(home.path()).arg("hosts").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("config/hosts.toml:3:8:"));
}

#[test]
fn paths_lists_every_file_under_home() {
    let home = tempfile::tempdir().unwrap();
    let text = stdout(fleetdeck(home.path()).args(["paths", "--json"]));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let root = home.path().display().to_string();
    for key in [
        "config",
        "hosts",
        "history",
        "runbooks",
        "audit",
        "runs",
        "logs",
        "known_hosts",
        "locks",
        "breakers",
        "agent",
        "agent_config",
        "agent_tokens",
        "agent_journal",
    ] {
        let p = doc[key].as_str().unwrap_or_default();
        assert!(p.starts_with(&root), "{key}: {p}");
    }
    // The agent's files are where `fleetdeck agent init` (without --dir) puts them.
    let agent = home.path().join("data/agent");
    for (key, path) in [
        ("agent", agent.clone()),
        ("agent_config", agent.join("agent.toml")),
        ("agent_tokens", agent.join("tokens.toml")),
        ("agent_journal", agent.join("journal")),
    ] {
        assert_eq!(doc[key].as_str(), Some(path.to_str().unwrap()), "{key}");
    }
    let table = stdout(fleetdeck(home.path()).arg("paths"));
    assert!(table.contains("(--home / FLEETDECK_HOME)"), "{table}");
    assert!(table.contains("history.jsonl"), "{table}");
    let agent_row = table
        .lines()
        .find(|l| l.starts_with("agent_config "))
        .unwrap_or_default();
    assert!(agent_row.contains("(not created yet)"), "{table}");

    let init = fleetdeck(home.path())
        .args(["agent", "init", "--name", "a1"])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let table = stdout(fleetdeck(home.path()).arg("paths"));
    for name in ["agent ", "agent_config ", "agent_tokens "] {
        let row = table
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default();
        assert!(
            !row.is_empty() && !row.contains("not created"),
            "{name}:\n{table}"
        );
    }
}

#[test]
fn fleetdeck_home_env_is_honoured() {
    let home = tempfile::tempdir().unwrap();
    let text = stdout(
        Command::cargo_bin("fleetdeck")
            .unwrap()
            .env("FLEETDECK_HOME", home.path())
            .args(["paths", "--json"]),
    );
    assert!(
        text.contains(&home.path().join("config/hosts.toml").display().to_string()),
        "{text}"
    );
}

#[test]
fn logs_go_to_private_json_files_never_the_terminal() {
    let home = home_with(INVENTORY);
    let out = fleetdeck(home.path())
        .args(["-vv", "hosts"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("TRACE"));
    let logs = home.path().join("logs");
    assert_eq!(fs::metadata(&logs).unwrap().mode() & 0o777, 0o700);
    let files: Vec<_> = fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("fleetdeck.") && name.ends_with(".log"),
        "{name}"
    );
    assert_eq!(fs::metadata(&files[0]).unwrap().mode() & 0o777, 0o600);
    let text = fs::read_to_string(&files[0]).unwrap();
    let first = text.lines().next().expect("a log line");
    let line: serde_json::Value = serde_json::from_str(first).unwrap();
    assert!(
        line["timestamp"].is_string() && line["level"].is_string(),
        "{first}"
    );
}

#[test]
fn bad_log_filter_is_a_warning_not_a_failure() {
    let home = home_with(INVENTORY);
    let out = fleetdeck(home.path())
        .env("FLEETDECK_LOG", "fleetdeck=loud")
        .arg("hosts")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("FLEETDECK_LOG=`fleetdeck=loud` is not a valid log filter")
    );
}

#[test]
fn completions_are_generated() {
    let home = tempfile::tempdir().unwrap();
    let text = stdout(fleetdeck(home.path()).args(["completions", "bash"]));
    assert!(
        text.contains("fleetdeck") && text.contains("hosts"),
        "{text}"
    );
}
