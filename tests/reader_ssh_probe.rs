//! A standalone `FleetReader` (the wallboard's) against a real OpenSSH sshd: its SSH hosts are
//! sampled through the fixed metrics probe (`ProbeOnly`, which can run nothing else), their
//! links reported; nothing is recorded (no history, no audit); and a server whose key is not
//! known is refused even when `--accept-new` is passed: a reader never accepts a key on its
//! own say (only the user's ssh config can, as it would for ssh).

mod support;

use std::time::{Duration, Instant};

use fleetdeck::config::{Home, Settings};
use fleetdeck::engine::launch::SshFlags;
use fleetdeck::engine::{ConnState, FleetReader};
use fleetdeck::inventory::load;
use fleetdeck::metrics::Source;
use support::cli::ssh_home;
use support::sshd::{FleetOptions, SshdFleet, sshd_or_skip};

const HOSTS: usize = 2;
/// Liveness bound (never a speed assertion).
const BOUND: Duration = Duration::from_secs(60);

fn settings() -> Settings {
    Settings::parse(
        std::path::Path::new("config.toml"),
        "[metrics]\nssh_interval = \"1s\"\n",
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_samples_ssh_hosts_through_the_probe_and_records_nothing() {
    if !sshd_or_skip("a_reader_samples_ssh_hosts_through_the_probe_and_records_nothing") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: HOSTS,
        ..Default::default()
    })
    .unwrap();
    let dir = ssh_home(&fleet, "");
    let home = Home::under(dir.path());
    let hosts = load::load(&home.hosts_file()).unwrap().hosts().to_vec();
    let flags = SshFlags {
        ssh_config: Some(fleet.ssh_config_path().to_path_buf()),
        known_hosts: vec![fleet.known_hosts_path().to_path_buf()],
        // Asked for, and ignored: a reader never accepts a new host key.
        accept_new: true,
    };
    let reader = FleetReader::open_with_ssh(&home, &settings(), hosts.clone(), &flags);
    let deadline = Instant::now() + BOUND;
    loop {
        let frame = reader.metrics();
        let sampled = hosts
            .iter()
            .filter(|h| {
                frame
                    .host(&h.name)
                    .and_then(|n| n.latest.as_ref())
                    .is_some_and(|s| s.source == Source::Ssh && s.mem_pct.is_some())
            })
            .count();
        if sampled == HOSTS {
            break;
        }
        assert!(Instant::now() < deadline, "samples: {frame:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let snap = reader.snapshot();
    for h in &hosts {
        assert_eq!(
            snap.connections.get(&h.name),
            Some(&ConnState::Connected),
            "{snap:?}"
        );
    }
    assert!(!home.history_file().exists(), "a reader records no run");
    assert!(
        !home.audit_file().exists(),
        "a reader audits nothing: it does nothing"
    );
    drop(reader);

    // Without the fleet's known_hosts (the ssh config pointed at an empty file): refused
    // although `--accept-new` was asked for, and nothing is written to fleetdeck's own.
    let config = std::fs::read_to_string(fleet.ssh_config_path()).unwrap();
    let empty = dir.path().join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let config: String = config
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("UserKnownHostsFile") {
                format!("    UserKnownHostsFile {}\n", empty.display())
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let blind_config = dir.path().join("blind_ssh_config");
    std::fs::write(&blind_config, config).unwrap();
    let blind = SshFlags {
        ssh_config: Some(blind_config),
        known_hosts: Vec::new(),
        accept_new: true,
    };
    let reader = FleetReader::open_with_ssh(&home, &settings(), hosts.clone(), &blind);
    let deadline = Instant::now() + BOUND;
    loop {
        let snap = reader.snapshot();
        let refused = hosts
            .iter()
            .filter(|h| {
                matches!(
                    snap.connections.get(&h.name),
                    Some(ConnState::Failed { kind, .. }) if *kind == fleetdeck::transport::ErrorKind::HostKey
                )
            })
            .count();
        if refused == HOSTS {
            break;
        }
        assert!(Instant::now() < deadline, "{snap:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let known = std::fs::read_to_string(home.known_hosts_file()).unwrap_or_default();
    assert!(
        known.trim().is_empty(),
        "a reader accepted a host key:\n{known}"
    );
}
