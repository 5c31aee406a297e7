//! `SshConfigSource::resolve` against the real OpenSSH client: for every alias of a fixture
//! config (and of the sshd harness's generated config), fleetdeck must see what `ssh -G` sees.

mod support;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use fleetdeck::diag::Error;
use fleetdeck::inventory::Host;
use fleetdeck::transport::ssh::config::{JumpHop, ResolvedHost, SshConfigSource, StrictMode};
use support::sshd::{FleetOptions, SshdFleet, run_with_timeout, sshd_or_skip};

const SSH_G_TIMEOUT: Duration = Duration::from_secs(20);

/// `ssh -G` output: keyword → values (IdentityFile and friends repeat).
type Dump = HashMap<String, Vec<String>>;

fn ssh_available() -> bool {
    Command::new("ssh")
        .arg("-V")
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn ssh_g(config: Option<&Path>, extra: &[&str], alias: &str) -> Dump {
    let mut cmd = Command::new("ssh");
    cmd.arg("-G");
    if let Some(config) = config {
        cmd.arg("-F").arg(config);
    }
    cmd.args(extra).arg(alias).stdin(Stdio::null());
    let out = run_with_timeout(&mut cmd, SSH_G_TIMEOUT).expect("running ssh -G");
    assert!(
        out.status.success(),
        "ssh -G {alias} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut dump = Dump::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (k, v) = line.split_once(' ').unwrap_or((line, ""));
        dump.entry(k.to_string()).or_default().push(v.to_string());
    }
    dump
}

/// Whether there is an ssh client to compare with; says so when not.
fn ssh_or_skip() -> bool {
    let available = ssh_available();
    if !available {
        eprintln!("skipping: no ssh client");
    }
    available
}

fn one<'a>(dump: &'a Dump, key: &str) -> Option<&'a str> {
    dump.get(key).and_then(|v| v.first()).map(String::as_str)
}

fn tilde(path: &str, home: &Path) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(path),
    }
}

/// Compares every field ssh prints with what fleetdeck resolved.
fn assert_matches_ssh(r: &ResolvedHost, dump: &Dump, home: &Path) {
    let ctx = format!("alias {}: ours {r:#?}\nssh -G {dump:#?}", r.alias);
    assert_eq!(Some(r.hostname.as_str()), one(dump, "hostname"), "{ctx}");
    assert_eq!(
        Some(r.port.to_string().as_str()),
        one(dump, "port"),
        "{ctx}"
    );
    assert_eq!(Some(r.user.as_str()), one(dump, "user"), "{ctx}");

    // ssh prints identity files unexpanded, and its defaults include types russh cannot use.
    let theirs: Vec<PathBuf> = dump
        .get("identityfile")
        .into_iter()
        .flatten()
        .map(|p| tilde(p, home))
        .collect();
    let ssh_defaults = [
        "id_rsa",
        "id_ecdsa",
        "id_ecdsa_sk",
        "id_ed25519",
        "id_ed25519_sk",
        "id_xmss",
        "id_dsa",
    ]
    .map(|n| home.join(".ssh").join(n));
    let theirs = if theirs == ssh_defaults {
        ["id_rsa", "id_ecdsa", "id_ed25519"]
            .map(|n| home.join(".ssh").join(n))
            .to_vec()
    } else {
        theirs
    };
    assert_eq!(r.identity_files, theirs, "{ctx}");

    let jump = r
        .proxy_jump
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        one(dump, "proxyjump").unwrap_or(""),
        jump,
        "proxyjump: {ctx}"
    );
    assert_eq!(
        r.host_key_alias.as_deref(),
        one(dump, "hostkeyalias"),
        "{ctx}"
    );

    let mut files: Vec<PathBuf> = Vec::new();
    for key in ["userknownhostsfile", "globalknownhostsfile"] {
        let value = one(dump, key).unwrap_or("none");
        if value != "none" {
            files.extend(value.split(' ').map(|p| tilde(p, home)));
        }
    }
    assert_eq!(r.known_hosts_files, files, "{ctx}");

    let strict = match one(dump, "stricthostkeychecking") {
        Some("true") => StrictMode::Yes,
        Some("false") => StrictMode::No,
        Some("ask") => StrictMode::Ask,
        Some("accept-new") => StrictMode::AcceptNew,
        other => panic!("unexpected stricthostkeychecking {other:?}: {ctx}"),
    };
    assert_eq!(r.strict_host_key_checking, strict, "{ctx}");

    let secs = |d: Option<Duration>| d.map(|d| d.as_secs().to_string());
    let timeout = one(dump, "connecttimeout").filter(|&v| v != "none");
    assert_eq!(secs(r.connect_timeout).as_deref(), timeout, "{ctx}");
    let alive = one(dump, "serveraliveinterval").filter(|&v| v != "0");
    assert_eq!(secs(r.server_alive_interval).as_deref(), alive, "{ctx}");
    assert_eq!(
        Some(r.server_alive_count_max.to_string().as_str()),
        one(dump, "serveralivecountmax"),
        "{ctx}"
    );
    let only = if r.identities_only { "yes" } else { "no" };
    assert_eq!(Some(only), one(dump, "identitiesonly"), "{ctx}");

    // ssh prints IdentityAgent only when the config sets it.
    match one(dump, "identityagent") {
        None => assert_eq!(
            r.identity_agent,
            std::env::var_os("SSH_AUTH_SOCK")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            "{ctx}"
        ),
        Some("none") => assert_eq!(r.identity_agent, None, "{ctx}"),
        Some(path) => assert_eq!(r.identity_agent, Some(PathBuf::from(path)), "{ctx}"),
    }
}

/// A config exercising every supported keyword, with includes, in a temp dir.
struct Fixture {
    _dir: tempfile::TempDir,
    config: PathBuf,
    root: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    fs::create_dir_all(d.join("inc")).unwrap();
    fs::write(
        d.join("inc/base.conf"),
        "Host inc-host\n    HostName Included.Example.NET\n    Port 2022\n",
    )
    .unwrap();
    // Included from inside `Host db??`: its top lines belong to that block, and its own
    // blocks can only apply to names that block matches.
    fs::write(
        d.join("inc/db.conf"),
        "Port 5432\nHost db01 x1\n    User dbadmin\n    IdentityFile ~/.ssh/db_key\n",
    )
    .unwrap();
    fs::write(d.join("inc/extra-1.conf"), "Host glob1\n  Port 1001\n").unwrap();
    fs::write(
        d.join("inc/extra-2.conf"),
        "Host glob1 glob2\n  Port 1002\n",
    )
    .unwrap();
    let root = d.display().to_string();
    let config = format!(
        r#"# Global section: applies to every host, before any Host line.
ServerAliveCountMax 5
Include {root}/inc/base.conf

Host web* !web-legacy
    User deploy
    Port 2201
    # The first value wins, within a block too.
    Port 2299
    IdentityFile ~/.ssh/web_ed25519
    IdentityFile {root}/keys/web_rsa
    IdentityFile "{root}/keys/with space"
    HostKeyAlias Web-Fleet
    ConnectTimeout 1m30s

Host web-legacy
    HostName legacy.%h.Example.COM
    StrictHostKeyChecking no
    IdentitiesOnly yes
    IdentityAgent none

Host bastion
    HostName 10.0.0.1
    User jumper
    Port=2022
    IdentityAgent {root}/agent-%r.sock

Host inner
    ProxyJump bastion,ops@relay:2200
    ServerAliveInterval 15
    UserKnownHostsFile {root}/kh/%h-%p-%r {root}/kh2/%n-%k-%u-%d-%C-%%
    STRICTHOSTKEYCHECKING yes

Host relay
    ProxyJump bastion
    HostKeyAlias relay-key

Host db??
    Include {root}/inc/db.conf
    User dbuser-from-block

Host *.corp
    ProxyCommand none
    ProxyJump should-be-ignored

Host proxied
    ProxyCommand nc %h %p

Host "quoted name"
    Port 4444

Host glob*
    Include {root}/inc/extra-*.conf

Host m1 m2
    HostName real-%h
Match host real-m1
    User matched-host
Match originalhost m2
    Port 2023
Match !originalhost m1,m2 user deploy
    ServerAliveInterval 33
Match exec "false"
    Port 7

Host loop-a
    ProxyJump loop-b
Host loop-b
    ProxyJump loop-a

Host *
    StrictHostKeyChecking accept-new
    UserKnownHostsFile ~/kh-default
    GlobalKnownHostsFile {root}/global_kh ~/global_kh2
    ConnectTimeout 7
    User everyone
    ServerAliveCountMax 9
"#
    );
    let path = d.join("config");
    fs::write(&path, config).unwrap();
    Fixture {
        _dir: dir,
        config: path,
        root: d,
    }
}

/// The fixture, loaded, and the local home it resolves `~` against.
fn loaded_fixture() -> (Fixture, SshConfigSource, PathBuf) {
    let f = fixture();
    let source = SshConfigSource::load(Some(&f.config)).unwrap();
    let home = source.local_user().home.clone();
    (f, source, home)
}

/// `text` as a config file in a fresh temp dir (kept while the dir lives).
fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    fs::write(&path, text).unwrap();
    (dir, path)
}

const ALIASES: &[&str] = &[
    "web01",
    "WEB01",
    "web-legacy",
    "bastion",
    "inner",
    "relay",
    "inc-host",
    "db01",
    "db02",
    "x1",
    "app.corp",
    "glob1",
    "glob2",
    "m1",
    "m2",
    "loop-a",
    "somewhere-else",
];

#[test]
fn fixture_resolves_like_ssh_g_for_every_alias() {
    if !ssh_or_skip() {
        return;
    }
    let (f, source, home) = loaded_fixture();
    for alias in ALIASES {
        let r = source
            .resolve(&Host::ad_hoc(alias))
            .unwrap_or_else(|e| panic!("{alias}: {e}"));
        assert_matches_ssh(&r, &ssh_g(Some(&f.config), &[], alias), &home);
    }
}

#[test]
fn fixture_values_are_the_expected_ones() {
    let (f, source, home) = loaded_fixture();
    let resolve = |alias: &str| source.resolve(&Host::ad_hoc(alias)).unwrap();

    let web = resolve("web01");
    assert_eq!((web.user.as_str(), web.port), ("deploy", 2201));
    assert_eq!(
        web.identity_files,
        [
            home.join(".ssh/web_ed25519"),
            f.root.join("keys/web_rsa"),
            f.root.join("keys/with space"),
        ]
    );
    assert_eq!(web.host_key_alias.as_deref(), Some("web-fleet"));
    assert_eq!(web.host_key_target(), ("web-fleet", 22));
    assert_eq!(web.connect_timeout, Some(Duration::from_secs(90)));
    assert_eq!(web.server_alive_count_max, 5);
    assert_eq!(web.strict_host_key_checking, StrictMode::AcceptNew);

    // `Host web*` does not match WEB01 (ssh matches Host patterns case-sensitively).
    let upper = resolve("WEB01");
    assert_eq!(
        (upper.hostname.as_str(), upper.user.as_str()),
        ("web01", "everyone")
    );
    assert_eq!(upper.host_key_target(), ("web01", 22));

    let legacy = resolve("web-legacy");
    assert_eq!(legacy.hostname, "legacy.web-legacy.example.com");
    assert_eq!(legacy.user, "everyone");
    assert_eq!(legacy.strict_host_key_checking, StrictMode::No);
    assert!(legacy.identities_only);
    assert_eq!(legacy.identity_agent, None);

    let bastion = resolve("bastion");
    assert_eq!(
        bastion.identity_agent,
        Some(f.root.join("agent-jumper.sock"))
    );

    let inner = resolve("inner");
    assert_eq!(
        inner.proxy_jump,
        [
            JumpHop {
                user: None,
                host: "bastion".into(),
                port: None
            },
            JumpHop {
                user: Some("ops".into()),
                host: "relay".into(),
                port: Some(2200)
            },
        ]
    );
    assert_eq!(inner.server_alive_interval, Some(Duration::from_secs(15)));
    assert_eq!(inner.strict_host_key_checking, StrictMode::Yes);
    assert_eq!(
        inner.known_hosts_files[0],
        f.root.join("kh/inner-22-everyone")
    );

    let (db01, db02, x1) = (resolve("db01"), resolve("db02"), resolve("x1"));
    assert_eq!((db01.user.as_str(), db01.port), ("dbadmin", 5432));
    assert_eq!(db01.identity_files, [home.join(".ssh/db_key")]);
    assert_eq!((db02.user.as_str(), db02.port), ("dbuser-from-block", 5432));
    assert_eq!((x1.user.as_str(), x1.port), ("everyone", 22));

    assert_eq!(resolve("inc-host").hostname, "included.example.net");
    assert_eq!(resolve("app.corp").proxy_jump, []);
    assert_eq!(resolve("glob1").port, 1001);
    assert_eq!(resolve("glob2").port, 1002);
    assert_eq!(resolve("m1").user, "matched-host");
    assert_eq!(resolve("m2").port, 2023);
    assert_eq!(
        resolve("web01").server_alive_interval,
        Some(Duration::from_secs(33))
    );
    assert_eq!(
        resolve("quoted name").port,
        4444,
        "a quoted Host pattern with a space"
    );

    // `Match exec` is not run: it never applies, and the warning says so.
    assert!(
        source
            .warnings()
            .iter()
            .any(|w| w.contains("Match exec") && w.contains("config:")),
        "{:?}",
        source.warnings()
    );
    assert_eq!(source.files().len(), 5, "{:?}", source.files());
}

#[test]
fn inventory_values_win_like_ssh_command_line_options() {
    if !ssh_or_skip() {
        return;
    }
    let (f, source, home) = loaded_fixture();
    let mut host = Host::ad_hoc("web01");
    host.address = Some("10.9.9.9".into());
    host.port = Some(2022);
    host.user = Some("alice".into());
    host.jump = Some("bastion,carol@relay:2200".into());
    let r = source.resolve(&host).unwrap();
    assert_eq!(
        (r.hostname.as_str(), r.port, r.user.as_str()),
        ("10.9.9.9", 2022, "alice")
    );
    let dump = ssh_g(
        Some(&f.config),
        &[
            "-o",
            "HostName=10.9.9.9",
            "-p",
            "2022",
            "-l",
            "alice",
            "-J",
            "bastion,carol@relay:2200",
        ],
        "web01",
    );
    assert_matches_ssh(&r, &dump, &home);

    // A ProxyCommand host with a jump from the inventory: the jump wins, as `-J` does.
    let mut proxied = Host::ad_hoc("proxied");
    proxied.jump = Some("bastion".into());
    assert_eq!(source.resolve(&proxied).unwrap().proxy_jump.len(), 1);

    let mut bad = Host::ad_hoc("web01");
    bad.jump = Some("u@".into());
    let err = source.resolve(&bad).unwrap_err().to_string();
    assert!(err.contains("web01") && err.contains("u@"), "{err}");
}

#[test]
fn jump_hops_resolve_through_the_config_like_ssh() {
    if !ssh_or_skip() {
        return;
    }
    let (f, source, home) = loaded_fixture();
    let inner = source.resolve(&Host::ad_hoc("inner")).unwrap();

    let relay_hop = &inner.proxy_jump[1];
    let relay = source.resolve_jump(relay_hop).unwrap();
    assert_eq!((relay.user.as_str(), relay.port), ("ops", 2200));
    let dump = ssh_g(Some(&f.config), &["-l", "ops", "-p", "2200"], "relay");
    assert_matches_ssh(&relay, &dump, &home);

    // `ProxyJump bastion,ops@relay:2200` is `ssh -J bastion -W inner ops@relay`: relay's own
    // ProxyJump gives way to the hops before it.
    let chain = source.jump_chain(&inner).unwrap();
    let names: Vec<(&str, &str, u16)> = chain
        .iter()
        .map(|h| (h.alias.as_str(), h.hostname.as_str(), h.port))
        .collect();
    assert_eq!(
        names,
        [("bastion", "10.0.0.1", 2022), ("relay", "relay", 2200)]
    );
    assert!(chain.iter().all(|h| h.proxy_jump.is_empty()));

    // A first hop's own ProxyJump is followed.
    let mut via_relay = Host::ad_hoc("target");
    via_relay.jump = Some("relay".into());
    let target = source.resolve(&via_relay).unwrap();
    let chain = source.jump_chain(&target).unwrap();
    let names: Vec<&str> = chain.iter().map(|h| h.alias.as_str()).collect();
    assert_eq!(names, ["bastion", "relay"]);

    let looped = source.resolve(&Host::ad_hoc("loop-a")).unwrap();
    let err = source.jump_chain(&looped).unwrap_err().to_string();
    assert!(
        err.contains("host `loop-a`: ProxyJump loop via `loop-a` (loop-a → loop-b → loop-a)"),
        "{err}"
    );

    // The usual cause: `Host *` with a ProxyJump also applies to the jump host.
    let (_dir, path) = config_file("Host *\n    ProxyJump gw\n");
    let star = SshConfigSource::load(Some(&path)).unwrap();
    let web = star.resolve(&Host::ad_hoc("web01")).unwrap();
    let err = star.jump_chain(&web).unwrap_err().to_string();
    assert!(
        err.contains("host `web01`: ProxyJump loop via `gw` (web01 → gw → gw)")
            && err.contains("ProxyJump none"),
        "{err}"
    );
}

#[test]
fn proxy_command_is_refused_with_its_place() {
    let (f, source, _) = loaded_fixture();
    let err = source.resolve(&Host::ad_hoc("proxied")).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(
        msg.contains("proxied") && msg.contains("ProxyCommand") && msg.contains("ProxyJump"),
        "{msg}"
    );
    assert!(msg.contains(&format!("{}:", f.config.display())), "{msg}");
}

#[test]
fn bad_values_are_reported_with_file_line_and_column() {
    let (_dir, path) = config_file(
        "Host a\n    Port 70000\n    ConnectTimeout soon\n    HostName \"unterminated\n    \
         StrictHostKeyChecking maybe\n    ProxyJump u@\n    SomeFutureOption whatever\n",
    );
    let err = SshConfigSource::load(Some(&path)).unwrap_err();
    let Error::Config(diags) = &err else {
        panic!("expected config diagnostics, got {err:?}");
    };
    let places: Vec<(usize, usize)> = diags.iter().map(|d| (d.line, d.column)).collect();
    assert_eq!(
        places,
        [(2, 10), (3, 20), (4, 14), (5, 27), (6, 15)],
        "{err}"
    );
    assert!(diags.iter().all(|d| d.file == path));
    assert_eq!(err.exit_code(), 2);
    // ssh refuses the same file.
    if ssh_available() {
        let out = Command::new("ssh")
            .args(["-G", "-F"])
            .arg(&path)
            .arg("a")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success());
    }
}

#[test]
fn files_are_required_only_when_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = SshConfigSource::load(Some(&missing)).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    assert_eq!(err.exit_code(), 2);

    // `--ssh-config none` reads nothing: pure defaults.
    let none = SshConfigSource::load(Some(Path::new("none"))).unwrap();
    assert!(none.files().is_empty());
    let r = none.resolve(&Host::ad_hoc("Plain")).unwrap();
    assert_eq!((r.hostname.as_str(), r.port), ("plain", 22));
    assert_eq!(r.strict_host_key_checking, StrictMode::Ask);
    assert_eq!(r.server_alive_count_max, 3);
    assert_eq!(r.user, none.local_user().name);

    // An Include cycle is an error naming the file, not a hang.
    let a = dir.path().join("a.conf");
    let b = dir.path().join("b.conf");
    fs::write(&a, format!("Include {}\n", b.display())).unwrap();
    fs::write(&b, format!("Include {}\n", a.display())).unwrap();
    let err = SshConfigSource::load(Some(&a)).unwrap_err().to_string();
    assert!(err.contains("cycle") && err.contains("b.conf"), "{err}");

    // A file that cannot be read (a directory) is an error naming it.
    let err = SshConfigSource::load(Some(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
}

#[test]
fn unknown_tokens_fail_the_host_with_the_place() {
    let (_dir, path) = config_file(
        "Host a\n  IdentityFile ~/.ssh/%Q\nHost b\n  UserKnownHostsFile /kh/${FLEETDECK_SURELY_UNSET_VAR}\n",
    );
    let source = SshConfigSource::load(Some(&path)).unwrap();
    let err = source.resolve(&Host::ad_hoc("a")).unwrap_err().to_string();
    assert!(err.contains("%Q") && err.contains(":2:"), "{err}");
    let err = source.resolve(&Host::ad_hoc("b")).unwrap_err().to_string();
    assert!(err.contains("FLEETDECK_SURELY_UNSET_VAR"), "{err}");
    assert!(source.resolve(&Host::ad_hoc("c")).is_ok());
}

#[test]
fn default_files_resolve_like_plain_ssh_g() {
    if !ssh_or_skip() {
        return;
    }
    // ~/.ssh/config and /etc/ssh/ssh_config, whatever this machine has.
    let source = SshConfigSource::load(None).unwrap();
    let home = source.local_user().home.clone();
    for alias in ["localhost", "example.org", "db01"] {
        let r = match source.resolve(&Host::ad_hoc(alias)) {
            Ok(r) => r,
            // A machine whose config uses ProxyCommand: nothing to compare.
            Err(e) if e.to_string().contains("ProxyCommand") => continue,
            Err(e) => panic!("{alias}: {e}"),
        };
        assert_matches_ssh(&r, &ssh_g(None, &[], alias), &home);
    }
}

#[test]
fn harness_config_resolves_to_the_loopback_fleet() {
    if !ssh_available() || !sshd_or_skip("harness_config_resolves_to_the_loopback_fleet") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions::default()).expect("starting the sshd fleet");
    let source = SshConfigSource::load(Some(fleet.ssh_config_path())).unwrap();
    let home = source.local_user().home.clone();
    for alias in fleet.aliases() {
        let r = source.resolve(&Host::ad_hoc(&alias)).unwrap();
        assert_matches_ssh(
            &r,
            &ssh_g(Some(fleet.ssh_config_path()), &[], &alias),
            &home,
        );
        assert_eq!(r.hostname, "127.0.0.1");
        assert_eq!(r.port, fleet.port());
        assert_eq!(r.user, fleet.user());
        assert_eq!(r.host_key_alias.as_deref(), Some(alias.as_str()));
        assert_eq!(r.host_key_target(), (alias.as_str(), 22));
        assert_eq!(r.identity_files, [fleet.user_key_path()]);
        assert!(r.identities_only);
        assert_eq!(
            r.known_hosts_files,
            [fleet.known_hosts_path(), Path::new("/dev/null")]
        );
        assert_eq!(r.strict_host_key_checking, StrictMode::Yes);
        assert_eq!(r.connect_timeout, Some(Duration::from_secs(5)));
        assert!(r.proxy_jump.is_empty());
    }
}
