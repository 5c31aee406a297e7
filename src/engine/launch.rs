//! Engine setup shared by the front ends (through `FleetSession`, and the action planner):
//! the transports a set of hosts needs, the command's limits from config.toml and flags, and
//! the `RunRequest`. One place, so the console adds no second way to run things.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::current_user;
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::RunContext;
use crate::engine::breaker::Breaker;
use crate::engine::locks::LockManager;
use crate::engine::types::{Guards, Priority};
use crate::engine::{Limit, RunRequest, Transports, new_run_id};
use crate::inventory::{Host, TransportKind};
use crate::transport::ExecSpec;
use crate::transport::agent::AgentTransport;
use crate::transport::local::LocalTransport;
use crate::transport::ssh::{DEFAULT_MAX_CHANNELS, PassphraseFn, SshOptions, SshTransport};

/// SSH client choices a front end may override (`--ssh-config`, `--known-hosts`,
/// `--accept-new`); the default uses the ssh config files and known_hosts as ssh does.
#[derive(Debug, Clone, Default)]
pub struct SshFlags {
    pub ssh_config: Option<PathBuf>,
    pub known_hosts: Vec<PathBuf>,
    pub accept_new: bool,
}

/// Limits that override config.toml (`None`: use config.toml; `Some(0s)`: off, except the
/// connect timeout, which must be more than 0s).
#[derive(Debug, Clone, Copy, Default)]
pub struct LimitFlags {
    pub connect_timeout: Option<Duration>,
    pub timeout: Option<Duration>,
    pub idle_timeout: Option<Duration>,
}

/// The command and its limits: flags win over config.toml; `0s` turns a limit off.
pub fn exec_spec(command: &str, settings: &Settings, flags: LimitFlags) -> Result<ExecSpec, Error> {
    let connect_timeout = flags
        .connect_timeout
        .unwrap_or(settings.run.connect_timeout.0);
    if connect_timeout.is_zero() {
        return Err(Error::Invalid(
            "the connect timeout must be more than 0s (--connect-timeout, or [run] \
             connect_timeout in config.toml)"
                .to_string(),
        ));
    }
    let non_zero = |d: Duration| (!d.is_zero()).then_some(d);
    let mut spec = ExecSpec::new(command);
    spec.connect_timeout = connect_timeout;
    spec.timeout = flags
        .timeout
        .map_or_else(|| settings.command_timeout(), non_zero);
    spec.idle_timeout = flags
        .idle_timeout
        .map_or_else(|| settings.idle_timeout(), non_zero);
    Ok(spec)
}

/// The output kept per host, from `[run] output_cap_per_host`.
pub fn output_cap(settings: &Settings) -> usize {
    usize::try_from(settings.run.output_cap_per_host.0).unwrap_or(usize::MAX)
}

/// What `transports` built: the set a run uses and, for their lifecycle, the SSH transport
/// (its pool: idle closing, goodbyes) and the agent transport (its links: heartbeats, alerts).
pub struct Built {
    pub transports: Transports,
    pub ssh: Option<SshTransport>,
    pub agent: Option<AgentTransport>,
}

/// The transports the hosts need. SSH is set up only when a host uses it, so a run on local
/// hosts never reads ssh configs or keys.
pub fn transports(
    hosts: &[Host],
    home: &Home,
    settings: &Settings,
    flags: &SshFlags,
    passphrase: Option<PassphraseFn>,
) -> Result<Built, Error> {
    // New connections of every transport in the process share one rate limit.
    crate::transport::rate::configure(settings.run.handshakes_per_second);
    let mut transports = Transports::new().with(TransportKind::Local, Arc::new(LocalTransport));
    let agent = hosts
        .iter()
        .any(|h| h.transport == TransportKind::Agent)
        // Connects lazily; relative token files are found from hosts.toml's folder.
        .then(|| AgentTransport::new(&home.config_dir, current_user()));
    if let Some(agent) = &agent {
        transports = transports.with(TransportKind::Agent, Arc::new(agent.clone()));
    }
    let ssh = if hosts.iter().any(|h| h.transport == TransportKind::Ssh) {
        let ssh = SshTransport::new(SshOptions {
            ssh_config: flags.ssh_config.clone(),
            extra_known_hosts: flags.known_hosts.clone(),
            fleetdeck_known_hosts: home.known_hosts_file(),
            accept_new: flags.accept_new,
            max_handshakes: settings.run.max_handshakes as usize,
            max_channels_per_connection: DEFAULT_MAX_CHANNELS,
            passphrase,
        })?;
        transports = transports.with(TransportKind::Ssh, Arc::new(ssh.clone()));
        Some(ssh)
    } else {
        None
    };
    Ok(Built {
        transports,
        ssh,
        agent,
    })
}

/// The SSH transport of a read-only front end: it can run the fixed metrics probe and nothing
/// else (`ProbeOnly`), never passes `--accept-new` (only the user's ssh config can accept a
/// first-seen key), and asks for no passphrase (a key that needs one is skipped, as with
/// `BatchMode=yes`).
pub fn probe_only_ssh(
    home: &Home,
    settings: &Settings,
    flags: &SshFlags,
) -> Result<crate::engine::sampling::ProbeOnly, Error> {
    crate::transport::rate::configure(settings.run.handshakes_per_second);
    let ssh = SshTransport::new(SshOptions {
        ssh_config: flags.ssh_config.clone(),
        extra_known_hosts: flags.known_hosts.clone(),
        fleetdeck_known_hosts: home.known_hosts_file(),
        accept_new: false,
        max_handshakes: settings.run.max_handshakes as usize,
        max_channels_per_connection: DEFAULT_MAX_CHANNELS,
        passphrase: None,
    })?;
    Ok(crate::engine::sampling::ProbeOnly::ssh(ssh))
}

/// The context runs of a front end share: the fan-out budget and host slots from
/// config.toml, the circuit breaker saved in the state folder (breakers.json, so consecutive
/// `fleetdeck run`s skip dead hosts fast), and the lock manager of this home.
pub fn context(transports: Transports, home: &Home, settings: &Settings) -> RunContext {
    let locks = LockManager::new(home, &settings.locks, current_user());
    let mut ctx = RunContext::new(transports, settings, Some(Arc::new(locks)));
    ctx.breaker = Breaker::load(&settings.breaker, &breaker_file(home));
    ctx
}

/// Where the circuit breaker's counts are kept.
pub fn breaker_file(home: &Home) -> PathBuf {
    home.state_dir.join("breakers.json")
}

/// How a run is shaped besides its command: `None` fields come from config.toml.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape {
    pub fanout: Option<u32>,
    pub batch: Option<Limit>,
    pub max_fail: Option<Limit>,
}

/// The request for `hosts`, with a new id unless `id` is given (the console shows a run
/// before the engine starts it).
pub fn request(
    id: Option<String>,
    hosts: Vec<Host>,
    selector: String,
    command: String,
    spec: ExecSpec,
    settings: &Settings,
    shape: Shape,
) -> RunRequest {
    RunRequest {
        id: id.unwrap_or_else(new_run_id),
        user: current_user(),
        selector,
        targets: hosts,
        display_command: command,
        spec,
        fanout: shape.fanout.unwrap_or(settings.run.fanout) as usize,
        batch: shape.batch,
        max_fail: shape.max_fail,
        output_cap: output_cap(settings),
        guards: Guards::default(),
        action: None,
        priority: Priority::Normal,
    }
}
