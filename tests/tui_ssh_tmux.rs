//! End to end over SSH: the real console in a real terminal (tmux) on the sshd harness fleet.
//! Bare `fleetdeck` opens the console; `fleetdeck tui --ssh-config FILE` runs a command twice
//! on three hosts whose key is encrypted: the passphrase is asked once in a masked popup, the
//! second run logs in nowhere again (sshd's log), the Fleet view and status bar show the pooled
//! connections, and quitting says goodbye to every server. Each test runs its own tmux server
//! (`-L`), which it stops when done.

mod support;
#[path = "support/tmux.rs"]
mod tmux;

use std::path::Path;
use std::time::{Duration, Instant};

use support::cli::{count_in_log, encrypted_key_ssh_config, home_with, ssh_home, write_config};
use support::sshd::{ENCRYPTED_KEY_PASSPHRASE, FleetOptions, SshdFleet, sshd_or_skip};
use tmux::{Tmux, fleetdeck_command};

const HOSTS: usize = 3;

/// `fleetdeck --home HOME ARGS` in a fresh tmux server of its own.
fn start(home: &Path, args: &str, width: u16, height: u16) -> Option<Tmux> {
    Tmux::start("fdssh", home, &fleetdeck_command(home, args), width, height)
}

/// The id of the run the message line says ended ok on all three hosts
/// (`run ID ok: 3 ok, 0 failed`).
fn finished_ok(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.contains("3 ok, 0 failed"))?;
    let rest = &line[line.find("run ")? + 4..];
    rest.split_whitespace().next().map(str::to_string)
}

#[test]
fn bare_fleetdeck_opens_the_console() {
    let home = home_with("[[hosts]]\nname = \"lab[1-2]\"\ntransport = \"local\"\n");
    let Some(tmux) = start(home.path(), "", 100, 30) else {
        return;
    };
    let s = tmux.wait_for("the fleet table", |s| s.contains("2/2 hosts"));
    assert!(s.contains("lab1") && s.contains("local"), "{s}");
    // An all-local fleet has no connections to count.
    assert!(!s.contains("pooled"), "{s}");
    tmux.key("Q");
    tmux.wait_gone();
}

/// `:run CMD` on the shown hosts, confirmed.
fn run_and_confirm(tmux: &Tmux, command: &str) {
    tmux.key(":");
    tmux.text(&format!("run {command}"));
    tmux.key("Enter");
    tmux.wait_for("the confirmation", |s| s.contains("Run on 3 hosts"));
    tmux.key("y");
}

#[test]
fn warm_second_run_passphrase_once_and_polite_quit() {
    if !sshd_or_skip("warm_second_run_passphrase_once_and_polite_quit") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: HOSTS,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("starting the sshd fleet: {e}"));
    let home = ssh_home(
        &fleet,
        "\n[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n",
    );
    // No metric sampling: this test is about the first connection a run makes (with SSH
    // sampling on, the console connects to sample as soon as it opens).
    write_config(
        home.path(),
        "config.toml",
        "[metrics]\nssh_interval = \"0s\"\n",
    );
    let config = encrypted_key_ssh_config(&fleet, home.path());
    let args = format!(
        "tui --ssh-config {} --known-hosts {}",
        config.display(),
        fleet.known_hosts_path().display()
    );
    let Some(tmux) = start(home.path(), &args, 120, 32) else {
        return;
    };
    tmux.wait_for("the fleet table", |s| {
        s.contains("4/4 hosts") && s.contains("0 pooled")
    });
    let s = tmux.screen();
    assert!(s.contains("CONNECTION") && s.contains("closed"), "{s}");

    tmux.key(":");
    tmux.text("target h*");
    tmux.key("Enter");
    tmux.wait_for("the target", |s| s.contains("3/4 hosts"));

    // First run: the key is encrypted, so the console asks, masked.
    run_and_confirm(&tmux, "echo warm-$((40+2))");
    let popup = tmux.wait_for("the passphrase popup", |s| s.contains("encrypted SSH key"));
    assert!(popup.contains("id_ed25519_encrypted"), "{popup}");
    tmux.text(ENCRYPTED_KEY_PASSPHRASE);
    let masked = tmux.wait_for("the masked text", |s| {
        s.contains(&"*".repeat(ENCRYPTED_KEY_PASSPHRASE.len()))
    });
    assert!(!masked.contains(ENCRYPTED_KEY_PASSPHRASE), "{masked}");
    tmux.key("Enter");
    let s = tmux.wait_for("the first run", |s| finished_ok(s).is_some());
    let first = finished_ok(&s);
    assert_eq!(
        count_in_log(&fleet, "Accepted publickey"),
        HOSTS,
        "{}",
        fleet.log_tail(30)
    );

    // The Fleet view and the status bar show the pooled connections (refreshed on ticks).
    tmux.key("1");
    let s = tmux.wait_for("the pooled connections", |s| s.contains("3 pooled"));
    assert_eq!(s.matches("● open").count(), HOSTS, "{s}");

    // Second run: no passphrase, no new login.
    run_and_confirm(&tmux, "echo again");
    let s = tmux.wait_for("the second run", |s| {
        s.contains("encrypted SSH key")
            || finished_ok(s).is_some_and(|id| Some(&id) != first.as_ref())
    });
    assert!(!s.contains("encrypted SSH key"), "asked again:\n{s}");
    assert_eq!(
        count_in_log(&fleet, "Accepted publickey"),
        HOSTS,
        "{}",
        fleet.log_tail(30)
    );

    // Quitting closes every connection politely.
    tmux.key("Q");
    tmux.wait_gone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while count_in_log(&fleet, "fleetdeck is done") < HOSTS && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        count_in_log(&fleet, "fleetdeck is done"),
        HOSTS,
        "{}",
        fleet.log_tail(30)
    );
}
