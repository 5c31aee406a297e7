//! `fleetdeck watch`: the console's collection without a screen, for a server or a systemd
//! unit. One session on the whole inventory watching agents, collecting metrics and recording
//! incidents (so Alertmanager, thresholds, `[[checks]]` and `[notify]` all run), `[metrics]
//! listen` served, status.json kept current as writer `watch`. One per home (flock on
//! state/watch.lock); SIGTERM or SIGINT ends it with exit 0 after runs it started got a grace.

use std::process::ExitCode;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::tui::IDLE_CLOSE_AFTER;
use super::watch_lock::{self, Taken};
use crate::cli::WatchArgs;
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::status::{WriterKind, spawn_status_writer};
use crate::engine::{FleetSession, SessionOptions};
use crate::inventory::load;

/// How long stopping waits for runs (checks' action runs) to end and SSH servers to say goodbye.
const STOP_GRACE: Duration = Duration::from_secs(5);

pub fn run(home: &Home, settings: &Settings, args: &WatchArgs) -> Result<ExitCode, Error> {
    let inventory = load::load(&home.hosts_file()).map_err(Error::Config)?;
    home.ensure_writable_dirs()?;
    let lock_path = home.watch_lock_file();
    // Held until this function returns; the kernel releases it if the process dies.
    let _lock = match watch_lock::take(&lock_path)? {
        Taken::Held(lock) => lock,
        Taken::Busy(holder) => {
            let who = holder.map_or_else(
                || "another process (it has not written its name yet)".to_string(),
                |h| h.to_string(),
            );
            eprintln!(
                "fleetdeck: another `fleetdeck watch` is running on this home: {who}; \
                 lock file {}. Stop that one first (two watchers would send every \
                 notification twice).",
                lock_path.display()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(watch(home, settings, args, inventory.hosts().to_vec()));
    // Tasks that ignore cancellation must not hold the exit (systemd would SIGKILL us).
    runtime.shutdown_timeout(STOP_GRACE);
    result
}

async fn watch(
    home: &Home,
    settings: &Settings,
    args: &WatchArgs,
    hosts: Vec<crate::inventory::Host>,
) -> Result<ExitCode, Error> {
    // First, so that a stop asked for during start-up is a clean stop too.
    let mut sigterm = signal(SignalKind::terminate())
        .map_err(|e| Error::Invalid(format!("cannot watch SIGTERM: {e}")))?;
    let mut sigint = signal(SignalKind::interrupt())
        .map_err(|e| Error::Invalid(format!("cannot watch SIGINT: {e}")))?;
    let count = hosts.len();
    // Tolerant like the console: a broken ssh config must not stop agents and checks from
    // being watched; the problem is logged and SSH hosts wait for a fixed config.
    let session = FleetSession::open_tolerant(
        home,
        settings,
        SessionOptions {
            ssh: args.ssh.ssh_flags(),
            idle_close_after: Some(IDLE_CLOSE_AFTER),
            watch_agents: true,
            collect_metrics: true,
            record_incidents: true,
            ..SessionOptions::new(hosts)
        },
    );
    if let Some(problem) = session.snapshot().problem {
        tracing::error!(%problem, "SSH hosts cannot be reached until this is fixed");
    }
    let stop = CancellationToken::new();
    if let Some(addr) = settings.metrics.listen() {
        match crate::engine::prom_listen::listen(addr, session.reader(), stop.clone()).await {
            Ok(l) => tracing::info!(addr = %l.addr, "serving /metrics"),
            Err(e) => {
                // A watcher asked to serve metrics and not serving them is broken: say so
                // loudly and let the service manager report it.
                session.shutdown(STOP_GRACE).await;
                return Err(Error::Invalid(e));
            }
        }
    }
    let status = spawn_status_writer(
        session.reader(),
        home.status_file(),
        WriterKind::Watch,
        stop.clone(),
    );
    tracing::info!(
        hosts = count,
        pid = std::process::id(),
        status_file = %home.status_file().display(),
        "fleetdeck watch started"
    );
    let why = tokio::select! {
        _ = sigterm.recv() => "SIGTERM",
        _ = sigint.recv() => "SIGINT",
    };
    tracing::info!(signal = why, "fleetdeck watch stopping");
    stop.cancel();
    let _ = status.await;
    let clean = session.shutdown(STOP_GRACE).await;
    if !clean {
        tracing::warn!("some runs did not end within the grace and were abandoned");
    }
    tracing::info!("fleetdeck watch stopped");
    Ok(ExitCode::SUCCESS)
}
