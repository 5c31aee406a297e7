use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::inventory::import::test_support::{address, assert_round_trips, fixture, host, names};

fn home() -> PathBuf {
    fixture("ssh/home")
}

fn main_config() -> PathBuf {
    home().join(".ssh/config")
}

fn run(path: &Path) -> Imported {
    import(path, Some(&home())).unwrap_or_else(|e| panic!("{e}"))
}

/// Imports config text written to a temporary file.
fn run_text(text: &str) -> Result<Imported, ImportError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, text).unwrap();
    import(&path, Some(&home()))
}

#[test]
fn imports_concrete_hosts_in_file_order_without_duplicates() {
    let got = run(&main_config());
    assert_eq!(
        names(&got.inventory),
        [
            "lab1",
            "lab2",
            "web01",
            "web02",
            "web03",
            "db1",
            "db2",
            "bastion",
            "app-prod",
            "multi-hop",
            "legacy"
        ]
    );
    assert!(got.inventory.hosts.iter().all(|h| h.tags.is_empty()));
    assert_round_trips(&got.inventory);
}

#[test]
fn one_host_line_gives_several_hosts_with_hostname_tokens() {
    let got = run(&main_config());
    for n in ["web01", "web02", "web03"] {
        let h = host(&got.inventory, n);
        assert_eq!(address(h), Some(format!("{n}.example.net").as_str()));
        assert_eq!(h.user.as_deref(), Some("deploy"));
    }
}

#[test]
fn first_value_wins_across_blocks() {
    let got = run(&main_config());
    let web01 = host(&got.inventory, "web01");
    // The later `Host web01` block adds the port but cannot override the user.
    assert_eq!(web01.port, Some(2200));
    assert_eq!(web01.user.as_deref(), Some("deploy"));
    assert_eq!(host(&got.inventory, "web02").port, None);
}

#[test]
fn host_star_defaults_apply() {
    let got = run(&main_config());
    for n in ["db2", "app-prod", "multi-hop", "legacy"] {
        assert_eq!(
            host(&got.inventory, n).user.as_deref(),
            Some("fallback"),
            "{n}"
        );
    }
    assert_eq!(host(&got.inventory, "bastion").user.as_deref(), Some("ops"));
}

#[test]
fn hostname_port_user_proxyjump() {
    let got = run(&main_config());
    let db1 = host(&got.inventory, "db1");
    assert_eq!(address(db1), Some("10.0.0.5"));
    assert_eq!(db1.port, Some(2222));
    assert_eq!(db1.user.as_deref(), Some("dba"));

    let db2 = host(&got.inventory, "db2");
    assert_eq!(address(db2), None, "HostName equal to the alias");
    assert_eq!(db2.port, None, "port 22 is the default");

    let app = host(&got.inventory, "app-prod");
    assert_eq!(address(app), Some("10.1.0.7"));
    assert_eq!(app.jump.as_deref(), Some("bastion"));
    assert_eq!(
        host(&got.inventory, "multi-hop").jump.as_deref(),
        Some("ops@bastion:2200,jump2")
    );
}

#[test]
fn include_is_read_in_place() {
    let got = run(&main_config());
    let lab1 = host(&got.inventory, "lab1");
    assert_eq!(address(lab1), Some("192.0.2.10"));
    assert_eq!(lab1.user.as_deref(), Some("lab"));
    assert_eq!(lab1.port, Some(2022));
    assert_eq!(host(&got.inventory, "lab2").port, None);
}

#[test]
fn wildcards_negations_and_match_are_reported() {
    let got = run(&main_config());
    let all = got.warnings.join("\n");
    for needle in [
        "skipped Host pattern `*.internal`",
        "skipped Host pattern `!skip.internal`",
        "skipped Host pattern `??-test`",
        "skipped Host pattern `*`",
        "skipped Host pattern `*.lab`",
        "Match blocks are not evaluated",
        "`legacy`: ProxyCommand is not supported",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
    // Warnings point at the place: file:line:column.
    let config = main_config();
    let wild = format!(
        "{}:32:6: skipped Host pattern `*.internal`",
        config.display()
    );
    assert!(all.contains(&wild), "{all}");
    let lab = format!(
        "{}:1:6: skipped Host pattern `*.lab`",
        home().join(".ssh/conf.d/20-wild.conf").display()
    );
    assert!(all.contains(&lab), "{all}");
}

#[test]
fn match_block_settings_do_not_leak_into_the_block_before() {
    let got = run_text("Host a\n    HostName a.example\nMatch user root\n    User leaked\n    Port 2\nHost *\n    User dflt\n")
        .unwrap();
    let a = host(&got.inventory, "a");
    assert_eq!(a.user.as_deref(), Some("dflt"));
    assert_eq!(a.port, None);
    // `Match all` is the same as `Host *`.
    let got = run_text("Host a\nMatch all\n    User everyone\n").unwrap();
    assert_eq!(host(&got.inventory, "a").user.as_deref(), Some("everyone"));
}

#[test]
fn include_inside_host_block_is_scoped() {
    let got = run(&home().join(".ssh/scoped.conf"));
    assert_eq!(names(&got.inventory), ["gateway", "gateway-b", "other"]);
    let gw = host(&got.inventory, "gateway");
    assert_eq!(address(gw), Some("gw.example.net"));
    assert_eq!(gw.user.as_deref(), Some("gw-user"));
    assert_eq!(gw.port, Some(2201));
    // First value wins: the included file's global Port comes before `Host gateway-b`.
    assert_eq!(host(&got.inventory, "gateway-b").port, Some(2201));
    let other = host(&got.inventory, "other");
    assert_eq!(other.user.as_deref(), Some("other"));
    assert_eq!(
        other.port, None,
        "scoped settings must not reach other hosts"
    );
    let all = got.warnings.join("\n");
    assert!(all.contains("skipped Host `unreachable`"), "{all}");
}

#[test]
fn include_matching_nothing_is_a_warning() {
    let got = run(&home().join(".ssh/missing-include.conf"));
    assert_eq!(names(&got.inventory), ["solo"]);
    assert!(
        got.warnings[0].contains("matched no files"),
        "{:?}",
        got.warnings
    );
}

#[test]
fn absolute_include_and_tilde_include() {
    let inc = home().join(".ssh/conf.d/10-lab.conf");
    let got = run_text(&format!("Include \"{}\"\nHost z\n", inc.display())).unwrap();
    assert_eq!(names(&got.inventory), ["lab1", "lab2", "z"]);
    let got = run_text("Include ~/.ssh/conf.d/1?-lab.conf\n").unwrap();
    assert_eq!(names(&got.inventory), ["lab1", "lab2"]);
}

#[test]
fn include_cycle_is_an_error() {
    let err = run_text_err_path(&home().join(".ssh/cycle-a.conf"));
    assert!(err.contains("Include cycle"), "{err}");
    assert!(err.contains("cycle-b.conf:1:9"), "{err}");
}

fn run_text_err_path(path: &Path) -> String {
    import(path, Some(&home()))
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

#[test]
fn malformed_files_are_errors_with_positions() {
    let quotes = fixture("ssh/errors/quotes.conf");
    assert_eq!(
        run_text_err_path(&quotes),
        format!("{}:5:14: unterminated \" quote", quotes.display())
    );
    let port = fixture("ssh/errors/port.conf");
    assert_eq!(
        run_text_err_path(&port),
        format!("{}:6:10: Port: expected port number", port.display())
    );
    let empty = fixture("ssh/errors/empty-host.conf");
    let e = run_text_err_path(&empty);
    assert_eq!(
        e,
        format!("{}:3:5: no argument after keyword `Host`", empty.display())
    );
    let e = run_text("Host \"\"\n").map(|_| ()).unwrap_err();
    assert_eq!(e.position(), Some((1, 6)));
    let e = import(Path::new("/nonexistent/ssh_config"), None)
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(e, ImportError::Io { .. }), "{e}");
}

#[test]
fn odd_names_and_comments() {
    let got = run_text(
        "host=a#b c # trailing comment\n  hostname 'x y'\n  User \"a\\\"b\"\nHost web[01] d,e\nHost f !f\n",
    )
    .unwrap();
    assert_eq!(names(&got.inventory), ["c"]);
    assert_eq!(address(host(&got.inventory, "c")), Some("x y"));
    assert_eq!(host(&got.inventory, "c").user.as_deref(), Some("a\"b"));
    let all = got.warnings.join("\n");
    assert!(all.contains("`a#b`: not a plain host name"), "{all}");
    assert!(all.contains("`web[01]`"), "{all}");
    assert!(all.contains("skipped Host `f`: a negated pattern"), "{all}");
}

#[test]
fn proxyjump_none_means_no_jump() {
    let got = run_text("Host a\n    ProxyJump none\nHost *\n    ProxyJump bastion\n").unwrap();
    assert_eq!(host(&got.inventory, "a").jump, None);
}

#[test]
fn wildmatch_follows_openssh() {
    assert!(wildmatch("*", ""));
    assert!(wildmatch("web*", "web01"));
    assert!(wildmatch("w?b*1", "web01"));
    assert!(wildmatch("*.ex*.net", "a.b.example.net"));
    assert!(!wildmatch("web?", "web01"));
    assert!(!wildmatch("Web*", "web01"));
}

/// `ssh -G -F FILE ALIAS`: OpenSSH's own resolution, as key → value.
fn ssh_g(config: &Path, alias: &str) -> Option<BTreeMap<String, String>> {
    let out = Command::new("/usr/bin/ssh")
        .arg("-G")
        .arg("-F")
        .arg(config)
        .arg(alias)
        .output()
        .ok()?;
    if !out.status.success() {
        panic!("ssh -G {alias}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// Imports `config` (under the fixture home) and checks every imported host against
/// `ssh -G`. Relative Includes are rewritten to absolute paths first: ssh resolves them against
/// the real ~/.ssh.
fn compare_with_ssh(config: &str, includes: &[&str], expected_hosts: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut text = std::fs::read_to_string(home().join(".ssh").join(config)).unwrap();
    for inc in includes {
        let abs = home().join(".ssh").join(inc);
        text = text.replace(
            &format!("Include {inc}"),
            &format!("Include {}", abs.display()),
        );
    }
    let path = dir.path().join("config");
    std::fs::write(&path, text).unwrap();
    let got = import(&path, Some(&home())).unwrap();
    assert_eq!(got.inventory.hosts.len(), expected_hosts);

    let Some(defaults) = ssh_g(Path::new("/dev/null"), "fleetdeck-probe") else {
        eprintln!("ssh -G failed to run: skipping");
        return;
    };
    for h in &got.inventory.hosts {
        let name = h.name.get_ref();
        let Some(ssh) = ssh_g(&path, name) else {
            return;
        };
        let want_host = address(h).unwrap_or(name).to_lowercase();
        assert_eq!(ssh["hostname"], want_host, "hostname of {name} in {config}");
        assert_eq!(
            ssh["port"],
            h.port.unwrap_or(22).to_string(),
            "port of {name} in {config}"
        );
        let user = h.user.clone().unwrap_or_else(|| defaults["user"].clone());
        assert_eq!(ssh["user"], user, "user of {name} in {config}");
        assert_eq!(
            ssh.get("proxyjump"),
            h.jump.as_ref(),
            "proxyjump of {name} in {config}"
        );
    }
}

#[test]
fn agrees_with_ssh_dash_g() {
    if !Path::new("/usr/bin/ssh").exists() {
        eprintln!("ssh not installed: skipping the comparison with `ssh -G`");
        return;
    }
    compare_with_ssh("config", &["conf.d/*.conf"], 11);
    compare_with_ssh("scoped.conf", &["scoped-inner.conf"], 3);
}
