//! Unit tests of the pieces; `tests/ssh_config_resolve.rs` compares whole resolutions with
//! `ssh -G`.

use std::fs;
use std::path::{Path, PathBuf};

use super::expand::{Tokens, expand_host_name, expand_path};
use super::*;

fn local(home: &Path) -> LocalUser {
    LocalUser {
        name: "alice".into(),
        home: home.to_path_buf(),
        uid: 1000,
        host_name: "vm.example.org".into(),
    }
}

fn source(text: &str) -> (tempfile::TempDir, SshConfigSource) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    fs::write(&path, text).unwrap();
    let src = SshConfigSource::load_for(Some(&path), local(Path::new("/home/alice"))).unwrap();
    (dir, src)
}

fn resolve(src: &SshConfigSource, name: &str) -> ResolvedHost {
    src.resolve(&Host::ad_hoc(name)).unwrap()
}

#[test]
fn tokens_expand_like_openssh() {
    let me = LocalUser {
        host_name: "vm".into(),
        ..local(Path::new("/home/alice"))
    };
    let t = Tokens {
        local: &me,
        host_name: "real.example.com",
        original: "t1",
        port: 2200,
        user: "bob",
        host_key_alias: "ka",
        jump: "j1",
    };
    let p = expand_path("~/%h/%p/%r/%n/%k/%u/%i/%d/%l/%L/%j/%%", &t).unwrap();
    assert_eq!(
        p,
        PathBuf::from(
            "/home/alice/real.example.com/2200/bob/t1/ka/alice/1000/home/alice/vm/vm/j1/%"
        )
    );
    // The value `ssh -G` printed for these inputs (OpenSSH 9.2).
    assert_eq!(
        expand_path("%C", &t).unwrap(),
        PathBuf::from("ebbde2e3ea38834f012040698afeb3aacf06a4c9")
    );
    let home = std::env::var("HOME").unwrap_or_default();
    assert_eq!(
        expand_path("${HOME}/x", &t).unwrap(),
        PathBuf::from(format!("{home}/x"))
    );
    assert_eq!(expand_path("$HOME", &t).unwrap(), PathBuf::from("$HOME"));
    for bad in ["%", "%Z", "${NOPE_NOT_SET_ANYWHERE_42}", "${HOME", "~bob/x"] {
        assert!(expand_path(bad, &t).is_err(), "{bad}");
    }
    assert_eq!(expand_host_name("%h.lan%%", "db").unwrap(), "db.lan%");
    assert!(expand_host_name("%p", "db").is_err());
}

#[test]
fn first_value_wins_and_identity_files_accumulate() {
    let (_d, src) = source(
        "User global\nHost a\n  Port 1\n  Port 2\n  IdentityFile /k1\nHost *\n  Port 3\n  \
         IdentityFile /k2\n  IdentityFile /k1\n  User late\n",
    );
    let a = resolve(&src, "a");
    assert_eq!((a.port, a.user.as_str()), (1, "global"));
    assert_eq!(
        a.identity_files,
        [PathBuf::from("/k1"), PathBuf::from("/k2")]
    );
    let b = resolve(&src, "b");
    assert_eq!(b.port, 3);
    assert_eq!(
        resolve(&source("").1, "x").identity_files,
        ["id_rsa", "id_ecdsa", "id_ed25519"].map(|n| PathBuf::from("/home/alice/.ssh").join(n))
    );
}

#[test]
fn match_criteria() {
    let (_d, src) = source(
        "Host x\n  HostName real-x\nMatch host REAL-*\n  Port 1\nMatch !localuser alice\n  \
         User never\nMatch user alice originalhost y\n  Port 2\nMatch all\n  User all\n",
    );
    assert_eq!(resolve(&src, "x").port, 1);
    assert_eq!(resolve(&src, "y").port, 2);
    assert_eq!(resolve(&src, "x").user, "all");
    let (_d, src) = source("Match canonical\n  Port 9\nMatch final\n  Port 8\n");
    assert_eq!(resolve(&src, "x").port, 22);
    assert_eq!(src.warnings().len(), 2, "{:?}", src.warnings());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    fs::write(&path, "Match all host x\n  Port 1\nMatch host\n").unwrap();
    let err = SshConfigSource::load_for(Some(&path), local(dir.path())).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(":1:7: Match all must appear alone") && text.contains(":3:7:"),
        "{text}"
    );
}

#[test]
fn default_files_and_relative_includes_live_under_the_home() {
    let home = tempfile::tempdir().unwrap();
    let ssh = home.path().join(".ssh");
    fs::create_dir_all(ssh.join("conf.d")).unwrap();
    fs::write(
        ssh.join("config"),
        "Include conf.d/*.conf\nHost top\n  Port 1\n",
    )
    .unwrap();
    fs::write(ssh.join("conf.d/a.conf"), "Host inc\n  Port 2\n").unwrap();
    let src = SshConfigSource::load_for(None, local(home.path())).unwrap();
    assert_eq!(src.files()[0], ssh.join("config"));
    assert_eq!(src.files()[1], ssh.join("conf.d/a.conf"));
    assert_eq!(resolve(&src, "top").port, 1);
    assert_eq!(resolve(&src, "inc").port, 2);
    assert_eq!(
        resolve(&src, "inc").known_hosts_files[0],
        ssh.join("known_hosts")
    );
}

#[test]
fn includes_from_inactive_blocks_never_apply() {
    let dir = tempfile::tempdir().unwrap();
    let inc = dir.path().join("inc.conf");
    fs::write(&inc, "User from-include\nHost *\n  Port 7\n").unwrap();
    let (_d, src) = source(&format!(
        "Host a\n  Include {}\nHost *\n  User rest\n",
        inc.display()
    ));
    let a = resolve(&src, "a");
    assert_eq!((a.user.as_str(), a.port), ("from-include", 7));
    let b = resolve(&src, "b");
    assert_eq!((b.user.as_str(), b.port), ("rest", 22));
}

#[test]
fn jump_hops_display_as_written() {
    let hop = |user: Option<&str>, host: &str, port| JumpHop {
        user: user.map(String::from),
        host: host.into(),
        port,
    };
    assert_eq!(hop(None, "b", None).to_string(), "b");
    assert_eq!(hop(Some("u"), "b", Some(2)).to_string(), "u@b:2");
    assert_eq!(hop(None, "::1", Some(2)).to_string(), "[::1]:2");
    let (_d, src) = source("Host a\n  ProxyJump none\n  ProxyJump b\n");
    assert!(resolve(&src, "a").proxy_jump.is_empty());
}
