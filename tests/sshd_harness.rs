//! Smoke tests of the loopback OpenSSH fleet in `tests/support/sshd.rs`, driven with the system
//! `ssh` client: if these fail, every SSH integration test and benchmark would be meaningless.

mod support;

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use support::sshd::{FleetOptions, SshdFleet, run_with_timeout, ssh_keygen, sshd_or_skip};

const SSH_TIMEOUT: Duration = Duration::from_secs(30);

fn start(hosts: usize) -> SshdFleet {
    SshdFleet::start(FleetOptions {
        hosts,
        kex: Some("curve25519-sha256".into()),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("starting the sshd fleet: {e}"))
}

fn ssh(fleet: &SshdFleet, alias: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = fleet.ssh_command(alias);
    cmd.arg("--").args(args);
    run_with_timeout(&mut cmd, SSH_TIMEOUT).unwrap_or_else(|e| panic!("ssh {alias}: {e}"))
}

fn describe(fleet: &SshdFleet, out: &std::process::Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}\n--- sshd log ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        fleet.log_tail(20)
    )
}

#[test]
fn every_alias_runs_commands_and_reports_exit_status() {
    if !sshd_or_skip("every_alias_runs_commands_and_reports_exit_status") {
        return;
    }
    let fleet = start(3);
    assert_eq!(fleet.aliases(), ["h001", "h002", "h003"]);
    assert!(fleet.host_public_key().starts_with("ssh-ed25519 AAAA"));

    for alias in fleet.aliases() {
        let out = ssh(&fleet, &alias, &["echo", &format!("hello-{alias}")]);
        assert!(out.status.success(), "{alias}: {}", describe(&fleet, &out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("hello-{alias}\n"),
            "{alias}: {}",
            describe(&fleet, &out)
        );
    }

    let out = ssh(&fleet, "h002", &["exit", "7"]);
    assert_eq!(out.status.code(), Some(7), "{}", describe(&fleet, &out));
}

#[test]
fn a_different_host_key_is_refused() {
    if !sshd_or_skip("a_different_host_key_is_refused") {
        return;
    }
    let fleet = start(1);
    let other = tempfile::tempdir().unwrap();
    let impostor = other.path().join("impostor");
    ssh_keygen(&impostor, "ed25519", "").unwrap();
    let impostor_pub = fs::read_to_string(other.path().join("impostor.pub")).unwrap();
    let wrong_known_hosts = other.path().join("known_hosts");
    fs::write(&wrong_known_hosts, format!("h001 {impostor_pub}")).unwrap();

    let mut cmd = fleet.ssh_command("h001");
    // Command-line options come before the config file, and ssh keeps the first value.
    cmd.arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            wrong_known_hosts.display()
        ))
        .args(["--", "echo", "should-not-run"]);
    let out = run_with_timeout(&mut cmd, SSH_TIMEOUT).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(!out.status.success(), "{}", describe(&fleet, &out));
    assert!(stderr.contains("host key"), "{}", describe(&fleet, &out));
    assert!(out.stdout.is_empty(), "{}", describe(&fleet, &out));

    // The generated known_hosts still works against the same sshd.
    let out = ssh(&fleet, "h001", &["true"]);
    assert!(out.status.success(), "{}", describe(&fleet, &out));
}

#[test]
fn drop_stops_the_sshd() {
    if !sshd_or_skip("drop_stops_the_sshd") {
        return;
    }
    let fleet = start(1);
    let out = ssh(&fleet, "h001", &["true"]);
    assert!(out.status.success(), "{}", describe(&fleet, &out));

    let pid = fleet.pid();
    let port = fleet.port();
    let dir = fleet.dir().to_path_buf();
    let proc_dir = format!("/proc/{pid}");
    assert!(Path::new(&proc_dir).exists());
    drop(fleet);

    assert!(!Path::new(&proc_dir).exists(), "sshd {pid} still running");
    assert!(!dir.exists(), "temp dir {} left behind", dir.display());
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "port {port} still accepts connections"
    );
}

#[test]
fn two_fleets_run_side_by_side() {
    if !sshd_or_skip("two_fleets_run_side_by_side") {
        return;
    }
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| start(2));
        let b = s.spawn(|| start(2));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_ne!(a.port(), b.port());
    assert_ne!(a.pid(), b.pid());
    assert_ne!(a.host_public_key(), b.host_public_key());
    for fleet in [&a, &b] {
        let out = ssh(fleet, "h002", &["echo", "$SSH_CONNECTION"]);
        assert!(out.status.success(), "{}", describe(fleet, &out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.trim_end().ends_with(&format!(" {}", fleet.port())),
            "{}",
            describe(fleet, &out)
        );
    }
    // Each fleet's known_hosts pins its own host key: crossing them must fail.
    let mut cmd = a.ssh_command("h001");
    cmd.arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            b.known_hosts_path().display()
        ))
        .args(["--", "true"]);
    let out = run_with_timeout(&mut cmd, SSH_TIMEOUT).unwrap();
    assert!(!out.status.success(), "{}", describe(&a, &out));
}

#[test]
fn generated_files_are_consistent() {
    if !sshd_or_skip("generated_files_are_consistent") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 1000,
        max_sessions: Some(50),
        max_startups: Some(support::sshd::DEFAULT_MAX_STARTUPS.into()),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("starting the sshd fleet: {e}"));
    let aliases = fleet.aliases();
    assert_eq!(aliases.len(), 1000);
    assert_eq!(aliases[0], "h0001");
    assert_eq!(aliases[999], "h1000");

    let known = fs::read_to_string(fleet.known_hosts_path()).unwrap();
    assert_eq!(known.lines().count(), 1001);
    assert!(known.contains(&format!("h0500 {}\n", fleet.host_public_key())));
    assert!(known.contains(&format!(
        "[127.0.0.1]:{} {}\n",
        fleet.port(),
        fleet.host_public_key()
    )));

    let sshd_config = fs::read_to_string(fleet.sshd_config_path()).unwrap();
    assert!(sshd_config.contains("MaxSessions 50\n"));
    assert!(sshd_config.contains("MaxStartups 10:30:100\n"));

    for key in [
        fleet.user_key_path(),
        fleet.encrypted_user_key_path(),
        fleet.rsa_user_key_path(),
    ] {
        assert!(key.is_file(), "{}", key.display());
    }
    let encrypted = fs::read_to_string(fleet.encrypted_user_key_path()).unwrap();
    let plain = fs::read_to_string(fleet.user_key_path()).unwrap();
    assert_ne!(encrypted, plain);
    // `ssh-keygen -y` needs the passphrase for the encrypted key only.
    let status = std::process::Command::new("ssh-keygen")
        .args(["-y", "-P", support::sshd::ENCRYPTED_KEY_PASSPHRASE, "-f"])
        .arg(fleet.encrypted_user_key_path())
        .output()
        .unwrap()
        .status;
    assert!(status.success());
    let status = std::process::Command::new("ssh-keygen")
        .args(["-y", "-P", "", "-f"])
        .arg(fleet.encrypted_user_key_path())
        .output()
        .unwrap()
        .status;
    assert!(!status.success());

    // The last alias really reaches the sshd, and the RSA key is accepted too (rsa-sha2).
    let mut cmd = fleet.ssh_command("h1000");
    // `-i` keys are offered before the config's IdentityFile.
    cmd.arg("-i")
        .arg(fleet.rsa_user_key_path())
        .args(["--", "echo", "rsa-ok"]);
    let out = run_with_timeout(&mut cmd, SSH_TIMEOUT).unwrap();
    assert!(out.status.success(), "{}", describe(&fleet, &out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "rsa-ok\n");
    let log = fs::read_to_string(fleet.log_path()).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("Accepted publickey") && l.contains("RSA")),
        "{}",
        fleet.log_tail(20)
    );

    // fleetdeck's hosts.toml schema accepts the generated file. (The full loader,
    // `inventory::load`, is still being written; switch to it once it is public.)
    let hosts_toml = fleet.dir().join("hosts.toml");
    fleet.write_hosts_toml(&hosts_toml).unwrap();
    let text = fs::read_to_string(&hosts_toml).unwrap();
    let file: fleetdeck::inventory::file::InventoryFile =
        toml::from_str(&text).unwrap_or_else(|e| panic!("hosts.toml rejected: {e}\n{text}"));
    assert_eq!(file.hosts.len(), 1000);
    assert_eq!(file.hosts[0].name.get_ref(), "h0001");
    assert_eq!(file.hosts[0].tags, ["test"]);
}
