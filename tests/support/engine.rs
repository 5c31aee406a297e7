//! Run requests on local hosts, for tests that drive the engine and the queue directly.

use std::time::Duration;

use fleetdeck::engine::{RunRequest, current_user, new_run_id};
use fleetdeck::inventory::{Host, TransportKind};
use fleetdeck::transport::ExecSpec;

/// Liveness bound for anything a test waits for (never a speed assertion).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A host that runs commands as local processes.
pub fn local(name: &str) -> Host {
    let mut h = Host::ad_hoc(name);
    h.transport = TransportKind::Local;
    h
}

/// `prefix00`, `prefix01`, … as local hosts.
pub fn local_hosts(prefix: &str, n: usize) -> Vec<Host> {
    (0..n).map(|i| local(&format!("{prefix}{i:02}"))).collect()
}

/// `command` on `targets` with the engine's defaults (fan-out 64, 1 MiB output cap, no guard
/// rails, normal priority) and a command timeout of PATIENCE.
pub fn request(targets: Vec<Host>, command: &str) -> RunRequest {
    let mut spec = ExecSpec::new(command);
    spec.timeout = Some(PATIENCE);
    RunRequest {
        id: new_run_id(),
        user: current_user(),
        selector: "test".into(),
        targets,
        display_command: command.into(),
        spec,
        fanout: 64,
        batch: None,
        max_fail: None,
        output_cap: 1 << 20,
        guards: Default::default(),
        action: None,
        priority: Default::default(),
    }
}

/// A home under `dir` whose hosts.toml is `hosts_toml`, its folders made.
pub fn home_at(dir: &std::path::Path, hosts_toml: &str) -> fleetdeck::config::Home {
    let home = fleetdeck::config::Home::under(dir);
    home.ensure_writable_dirs().unwrap();
    std::fs::create_dir_all(&home.config_dir).unwrap();
    std::fs::write(home.hosts_file(), hosts_toml).unwrap();
    home
}
