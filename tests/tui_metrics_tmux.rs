//! The console's metrics end to end, in tmux against a real loopback OpenSSH fleet: the SSH
//! sampler's values reach the Fleet table's columns and the Metrics view, and `:target` picks
//! hosts by them.

mod support;
#[path = "support/tmux.rs"]
mod tmux;

use std::path::Path;

use support::cli::{ssh_home, write_config};
use support::sshd::{FleetOptions, SshdFleet, sshd_or_skip};
use tmux::{Tmux, fleetdeck_command};

fn start(home: &Path, args: &str) -> Option<Tmux> {
    Tmux::start("fdmetrics", home, &fleetdeck_command(home, args), 120, 32)
}

/// The Fleet table's row of `host`.
fn row<'a>(screen: &'a str, host: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(&format!(" {host} ")))
        .unwrap_or_default()
}

#[test]
fn ssh_samples_reach_the_fleet_table_and_the_metrics_view() {
    if !sshd_or_skip("ssh_samples_reach_the_fleet_table_and_the_metrics_view") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 2,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("starting the sshd fleet: {e}"));
    let home = ssh_home(
        &fleet,
        "\n[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n",
    );
    write_config(
        home.path(),
        "config.toml",
        "[metrics]\nssh_interval = \"1s\"\n",
    );
    let args = format!(
        "tui --ssh-config {} --known-hosts {}",
        fleet.ssh_config_path().display(),
        fleet.known_hosts_path().display()
    );
    let Some(tmux) = start(home.path(), &args) else {
        return;
    };
    // CPU needs two probes; then every SSH row has percentages, the local one a dash.
    let s = tmux.wait_for("CPU figures in the fleet table", |s| {
        ["h001", "h002"]
            .iter()
            .all(|h| row(s, h).matches('%').count() >= 3)
    });
    assert!(
        s.contains("CPU") && s.contains("MEM") && s.contains("DISK"),
        "{s}"
    );
    assert!(row(&s, "lab1").contains('—'), "{s}");

    tmux.key("3");
    let s = tmux.wait_for("the metrics view", |s| s.contains("metrics · cpu"));
    assert!(s.contains("h001: cpu"), "{s}");
    assert!(s.contains("ssh sample"), "{s}");

    tmux.key(":");
    tmux.text("target mem>=0");
    tmux.key("Enter");
    let s = tmux.wait_for("the target", |s| s.contains("target mem>=0: 2 hosts"));
    assert!(s.contains("by the samples shown now"), "{s}");

    tmux.key("Q");
    tmux.wait_gone();
}
