//! Host key trust with real keys from `ssh-keygen`, hashed files from `ssh-keygen -H`, and
//! files written by `learn` read back by OpenSSH itself.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use fleetdeck::transport::ssh::known_hosts::{HostKeyCheck, KnownHosts, fingerprint, learn};
use russh::keys::PublicKey;
use support::sshd::{FleetOptions, SshdFleet, run_with_timeout, ssh_keygen, sshd_or_skip};

const SSH_TIMEOUT: Duration = Duration::from_secs(30);

/// A fresh key pair of `kind` in `dir`; returns the public key and its `.pub` path.
fn key(dir: &Path, name: &str, kind: &str) -> (PublicKey, PathBuf) {
    let path = dir.join(name);
    ssh_keygen(&path, kind, "").unwrap_or_else(|e| panic!("ssh-keygen -t {kind}: {e}"));
    let public = path.with_extension("pub");
    let text = fs::read_to_string(&public).unwrap();
    (PublicKey::from_openssh(&text).unwrap(), public)
}

/// `type base64` of a key, for writing known_hosts lines.
fn openssh(key: &PublicKey) -> String {
    PublicKey::new(key.key_data().clone(), "")
        .to_openssh()
        .unwrap()
        .trim()
        .to_string()
}

struct Keys {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    ed1: PublicKey,
    ed2: PublicKey,
    ecdsa: PublicKey,
    rsa: PublicKey,
}

fn keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    Keys {
        ed1: key(&d, "ed1", "ed25519").0,
        ed2: key(&d, "ed2", "ed25519").0,
        ecdsa: key(&d, "ecdsa", "ecdsa").0,
        rsa: key(&d, "rsa", "rsa").0,
        dir: d,
        _dir: dir,
    }
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn changed_at(check: HostKeyCheck) -> (PathBuf, usize) {
    match check {
        HostKeyCheck::Changed { file, line, .. } => (file, line),
        other => panic!("expected Changed, got {other:?}"),
    }
}

#[track_caller]
fn assert_unknown(check: HostKeyCheck) {
    assert!(
        matches!(check, HostKeyCheck::Unknown { .. }),
        "expected Unknown, got {check:?}"
    );
}

#[test]
fn plain_lists_ports_case_and_key_types() {
    let k = keys();
    let file = write(
        &k.dir,
        "known_hosts",
        &[
            "# a comment".into(),
            format!("web01.example.com,Web02.EXAMPLE.com {}", openssh(&k.ed1)),
            format!("[db.example.com]:2222 {} db key", openssh(&k.ed2)),
            format!("rsa-host {}", openssh(&k.rsa)),
        ],
    );
    let kh = KnownHosts::load(std::slice::from_ref(&file)).unwrap();
    assert_eq!(kh.stats().entries, 3);
    assert_eq!(
        kh.check("web01.example.com", 22, &k.ed1),
        HostKeyCheck::Known
    );
    assert_eq!(
        kh.check("WEB02.example.COM", 22, &k.ed1),
        HostKeyCheck::Known
    );
    assert_eq!(
        kh.check("db.example.com", 2222, &k.ed2),
        HostKeyCheck::Known
    );
    assert_eq!(kh.check("rsa-host", 22, &k.rsa), HostKeyCheck::Known);
    // The port is part of the name.
    assert_unknown(kh.check("db.example.com", 22, &k.ed2));
    // Same type, different key: changed, at the line that holds the other key.
    assert_eq!(
        changed_at(kh.check("web01.example.com", 22, &k.ed2)),
        (file.clone(), 2)
    );
    // Only keys of other types known: unknown, as OpenSSH says.
    match kh.check("web01.example.com", 22, &k.ecdsa) {
        HostKeyCheck::Unknown { fingerprint: f } => assert_eq!(f, fingerprint(&k.ecdsa)),
        other => panic!("{other:?}"),
    }
    assert_eq!(kh.known_key_types("web01.example.com", 22), ["ssh-ed25519"]);
    assert!(kh.known_key_types("nowhere", 22).is_empty());
}

#[test]
fn hashed_entries_from_ssh_keygen() {
    let k = keys();
    let file = write(
        &k.dir,
        "known_hosts",
        &[
            format!("web01.example.com {}", openssh(&k.ed1)),
            format!("[db.example.com]:2222 {}", openssh(&k.ecdsa)),
        ],
    );
    let out = Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(out.success());
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.lines().all(|l| l.starts_with("|1|")), "{text}");

    let kh = KnownHosts::load(std::slice::from_ref(&file)).unwrap();
    assert_eq!(kh.stats().malformed, 0, "{:?}", kh.problems());
    assert_eq!(
        kh.check("web01.example.com", 22, &k.ed1),
        HostKeyCheck::Known
    );
    assert_eq!(
        kh.check("Web01.Example.com", 22, &k.ed1),
        HostKeyCheck::Known
    );
    assert_eq!(
        kh.check("db.example.com", 2222, &k.ecdsa),
        HostKeyCheck::Known
    );
    assert_eq!(
        changed_at(kh.check("web01.example.com", 22, &k.ed2)),
        (file.clone(), 1)
    );
    assert_unknown(kh.check("web02.example.com", 22, &k.ed1));
}

#[test]
fn wildcards_and_negation() {
    let k = keys();
    let file = write(
        &k.dir,
        "known_hosts",
        &[
            format!(
                "*.prod.example.com,!db*.prod.example.com {}",
                openssh(&k.ed1)
            ),
            format!("web?? {}", openssh(&k.ed2)),
        ],
    );
    let kh = KnownHosts::load(&[file]).unwrap();
    assert_eq!(
        kh.check("app.prod.example.com", 22, &k.ed1),
        HostKeyCheck::Known
    );
    assert_unknown(kh.check("db1.prod.example.com", 22, &k.ed1));
    assert_eq!(kh.check("web01", 22, &k.ed2), HostKeyCheck::Known);
    assert_unknown(kh.check("web001", 22, &k.ed2));
}

#[test]
fn revoked_keys_win_over_everything() {
    let k = keys();
    let user = write(
        &k.dir,
        "known_hosts",
        &[format!("host1,host2 {}", openssh(&k.ed1))],
    );
    let global = write(
        &k.dir,
        "ssh_known_hosts",
        &[
            "# revocations".into(),
            format!("@revoked some-other-host {}", openssh(&k.ed1)),
            format!("@revoked * {}", openssh(&k.rsa)),
        ],
    );
    let kh = KnownHosts::load(&[user, global.clone()]).unwrap();
    assert_eq!(kh.stats().revoked, 2);
    // Known for host1 by the user file, revoked in the global file: revoked.
    assert_eq!(
        kh.check("host1", 22, &k.ed1),
        HostKeyCheck::Revoked {
            file: global.clone(),
            line: 2
        }
    );
    assert_eq!(
        kh.check("anything", 2222, &k.rsa),
        HostKeyCheck::Revoked {
            file: global,
            line: 3
        }
    );
    assert!(matches!(
        kh.check("host1", 22, &k.ed2),
        HostKeyCheck::Changed { .. }
    ));
}

#[test]
fn cert_authority_lines_are_counted_and_ignored() {
    let k = keys();
    let file = write(
        &k.dir,
        "known_hosts",
        &[format!("@cert-authority *.example.com {}", openssh(&k.ed1))],
    );
    let kh = KnownHosts::load(&[file]).unwrap();
    assert_eq!(kh.stats().cert_authority, 1);
    assert_eq!(kh.stats().entries, 0);
    assert_unknown(kh.check("a.example.com", 22, &k.ed1));
}

#[test]
fn malformed_lines_are_skipped_and_counted() {
    let k = keys();
    let file = write(
        &k.dir,
        "known_hosts",
        &[
            "garbage".into(),
            "host ssh-ed25519 !!!notbase64".into(),
            format!("@weird host {}", openssh(&k.ed1)),
            format!("good {}", openssh(&k.ed1)),
            format!("|1|short|hash {}", openssh(&k.ed1)),
        ],
    );
    let kh = KnownHosts::load(std::slice::from_ref(&file)).unwrap();
    assert_eq!(kh.stats().malformed, 4, "{:?}", kh.problems());
    assert_eq!(kh.stats().entries, 1);
    assert_eq!(kh.problems().len(), 4);
    assert!(
        kh.problems()[0].starts_with(&format!("{}:1:", file.display())),
        "{:?}",
        kh.problems()
    );
    assert_eq!(kh.check("good", 22, &k.ed1), HostKeyCheck::Known);
}

#[test]
fn missing_files_are_fine_and_unreadable_ones_are_named() {
    let k = keys();
    let kh = KnownHosts::load(&[k.dir.join("absent"), PathBuf::from("/dev/null")]).unwrap();
    assert_eq!(kh.stats().files_read, 1);
    assert_unknown(kh.check("h", 22, &k.ed1));
    // A directory cannot be read as a file (permission bits do not stop root).
    let err = KnownHosts::load(std::slice::from_ref(&k.dir)).unwrap_err();
    assert!(
        err.to_string().contains(&k.dir.display().to_string()),
        "{err}"
    );
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn fingerprints_match_ssh_keygen() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ed25519", "ecdsa", "rsa"] {
        let (public, path) = key(dir.path(), kind, kind);
        let out = Command::new("ssh-keygen")
            .args(["-l", "-E", "sha256", "-f"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let theirs = text.split_whitespace().nth(1).unwrap_or_default();
        assert_eq!(fingerprint(&public), theirs, "{kind}");
    }
}

#[test]
fn learn_creates_a_private_file_that_openssh_reads() {
    let k = keys();
    let file = k.dir.join("new/dir/known_hosts");
    learn(&file, "Host.Example", 2222, &k.ed1).unwrap();
    learn(&file, "plain", 22, &k.rsa).unwrap();
    let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = fs::metadata(file.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    let text = fs::read_to_string(&file).unwrap();
    assert_eq!(
        text,
        format!(
            "[host.example]:2222 {}\nplain {}\n",
            openssh(&k.ed1),
            openssh(&k.rsa)
        )
    );

    // Learning the same key again changes nothing; a different key of the type is refused.
    learn(&file, "host.example", 2222, &k.ed1).unwrap();
    assert_eq!(fs::read_to_string(&file).unwrap(), text);
    let err = learn(&file, "host.example", 2222, &k.ed2)
        .unwrap_err()
        .to_string();
    assert!(err.contains("different") && err.contains(":1:"), "{err}");

    let kh = KnownHosts::load(std::slice::from_ref(&file)).unwrap();
    assert_eq!(kh.check("host.example", 2222, &k.ed1), HostKeyCheck::Known);
    assert_eq!(kh.check("plain", 22, &k.rsa), HostKeyCheck::Known);

    // OpenSSH's own lookup finds both.
    for name in ["[host.example]:2222", "plain"] {
        let out = Command::new("ssh-keygen")
            .args(["-F", name, "-f"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "ssh-keygen -F {name}");
    }

    // A file without a final newline still gets whole lines.
    let ragged = k.dir.join("ragged");
    fs::write(&ragged, format!("old {}", openssh(&k.ed2))).unwrap();
    learn(&ragged, "new", 22, &k.ed1).unwrap();
    let kh = KnownHosts::load(&[ragged]).unwrap();
    assert_eq!(kh.check("old", 22, &k.ed2), HostKeyCheck::Known);
    assert_eq!(kh.check("new", 22, &k.ed1), HostKeyCheck::Known);
}

#[test]
fn learn_refuses_names_that_would_read_back_as_patterns() {
    let k = keys();
    let file = k.dir.join("known_hosts");
    for name in ["", "a,b", "web*", "h?", "!h", "|1|x", "@revoked", "a b"] {
        assert!(learn(&file, name, 22, &k.ed1).is_err(), "{name:?}");
    }
    assert!(!file.exists());
}

#[test]
fn concurrent_learns_write_whole_lines() {
    let k = keys();
    let keys = Arc::new((k.ed1.clone(), k.ecdsa.clone()));
    // Many rounds: each is two threads released at once onto a fresh file.
    for round in 0..20 {
        let file = k.dir.join(format!("kh-{round}"));
        let barrier = Arc::new(Barrier::new(3));
        let mut threads = Vec::new();
        for (i, same) in [(0, false), (1, false), (2, true)] {
            let (file, barrier, keys) = (file.clone(), barrier.clone(), keys.clone());
            threads.push(thread::spawn(move || {
                barrier.wait();
                // Threads 0 and 1 record different hosts; thread 2 repeats thread 0's.
                let (name, key) = match (i, same) {
                    (1, _) => ("beta", &keys.1),
                    _ => ("alpha", &keys.0),
                };
                learn(&file, name, 22, key)
            }));
        }
        for t in threads {
            t.join().unwrap().unwrap();
        }
        let text = fs::read_to_string(&file).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort();
        assert_eq!(
            lines,
            [
                format!("alpha {}", openssh(&keys.0)),
                format!("beta {}", openssh(&keys.1)),
            ],
            "round {round}"
        );
    }
}

#[test]
fn harness_known_hosts_and_learned_keys_satisfy_openssh() {
    if !sshd_or_skip("harness_known_hosts_and_learned_keys_satisfy_openssh") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 2,
        kex: Some("curve25519-sha256".into()),
        ..Default::default()
    })
    .expect("starting the sshd fleet");
    let host_key = PublicKey::from_openssh(fleet.host_public_key()).unwrap();
    let kh = KnownHosts::load(&[fleet.known_hosts_path().to_path_buf()]).unwrap();
    for alias in fleet.aliases() {
        // The harness uses HostKeyAlias: the alias alone, no port.
        assert_eq!(kh.check(&alias, 22, &host_key), HostKeyCheck::Known);
    }
    assert_eq!(
        kh.check("127.0.0.1", fleet.port(), &host_key),
        HostKeyCheck::Known
    );

    // A file written by `learn` alone lets the real ssh client in under strict checking.
    let dir = tempfile::tempdir().unwrap();
    let learned = dir.path().join("known_hosts");
    learn(&learned, "h001", 22, &host_key).unwrap();
    let mut cmd = fleet.ssh_command("h001");
    cmd.arg("-o")
        .arg(format!("UserKnownHostsFile={}", learned.display()))
        .args(["-o", "StrictHostKeyChecking=yes", "--", "echo", "trusted"]);
    let out = run_with_timeout(&mut cmd, SSH_TIMEOUT).unwrap();
    assert!(
        out.status.success(),
        "ssh with the learned file: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        fleet.log_tail(20)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "trusted\n");

    // And a different key recorded for the alias makes ssh refuse, as `check` does.
    let other = dir.path().join("other");
    let (wrong, _) = key(dir.path(), "wrong", "ed25519");
    learn(&other, "h001", 22, &wrong).unwrap();
    let kh = KnownHosts::load(std::slice::from_ref(&other)).unwrap();
    assert_eq!(
        changed_at(kh.check("h001", 22, &host_key)),
        (other.clone(), 1)
    );
    let mut cmd = fleet.ssh_command("h001");
    cmd.arg("-o")
        .arg(format!("UserKnownHostsFile={}", other.display()))
        .args(["-o", "StrictHostKeyChecking=yes", "--", "true"]);
    let out = run_with_timeout(&mut cmd, SSH_TIMEOUT).unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("HOST IDENTIFICATION HAS CHANGED"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
