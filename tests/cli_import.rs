//! `fleetdeck hosts import` through the binary: the printed TOML is a working hosts.toml.

mod support;

use std::path::{Path, PathBuf};

use support::cli::{fleetdeck, write_config};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(rel)
}

/// Imports, installs the output as hosts.toml, and lists it back through `hosts --json`.
fn import_and_list(flag: &str, file: &Path, env_home: Option<&Path>) -> serde_json::Value {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = fleetdeck(home.path());
    cmd.args(["hosts", "import", flag]).arg(file);
    if let Some(h) = env_home {
        cmd.env("HOME", h);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    write_config(home.path(), "hosts.toml", &out.stdout);
    let listed = fleetdeck(home.path())
        .args(["hosts", "--json"])
        .output()
        .unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    serde_json::from_slice(&listed.stdout).unwrap()
}

#[test]
fn ansible_ini_becomes_a_working_inventory() {
    let doc = import_and_list("--ansible", &fixture("ansible/hosts.ini"), None);
    let names: Vec<&str> = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"web01") && names.contains(&"web10") && names.contains(&"db-a"),
        "{names:?}"
    );
    let web10 = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "web10")
        .unwrap();
    assert_eq!(web10["address"], "10.0.0.10");
    assert_eq!(web10["port"], 2222);
    assert!(
        web10["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "prod"),
        "{web10}"
    );
}

#[test]
fn ansible_yaml_becomes_a_working_inventory() {
    let doc = import_and_list("--ansible", &fixture("ansible/hosts.yml"), None);
    assert!(doc["count"].as_u64().unwrap() > 0, "{doc}");
}

#[test]
fn ssh_config_becomes_a_working_inventory() {
    let home = fixture("ssh/home");
    let doc = import_and_list("--ssh-config", &home.join(".ssh/config"), Some(&home));
    assert!(doc["count"].as_u64().unwrap() > 0, "{doc}");
    // Wildcard patterns are not hosts.
    assert!(!doc["folded"].as_str().unwrap().contains('*'), "{doc}");
}

#[test]
fn import_errors_exit_2_with_position() {
    let home = tempfile::tempdir().unwrap();
    let out = fleetdeck(home.path())
        .args(["hosts", "import", "--ansible"])
        .arg(fixture("ansible/errors/bad-range.ini"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad-range.ini:3:4: host range `[01:5]`"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing half-written to stdout");

    let out = fleetdeck(home.path())
        .args(["hosts", "import", "--ssh-config"])
        .arg(fixture("ssh/errors/port.conf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("port.conf:"));

    let out = fleetdeck(home.path())
        .args(["hosts", "import", "--ansible", "/nonexistent/inventory.ini"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/inventory.ini"));
}

#[test]
fn import_needs_exactly_one_source() {
    let home = tempfile::tempdir().unwrap();
    let out = fleetdeck(home.path())
        .args(["hosts", "import"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
