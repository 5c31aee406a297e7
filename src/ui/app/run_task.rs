//! Starts a confirmed run on the engine in a tokio task, through the same setup as
//! `fleetdeck run` (`engine::launch`) over the console's shared transports (`transports.rs`:
//! their pooled connections outlive the run); its events go to the console's loop tagged with
//! the run id. Cancelling is the engine's own: the run is recorded as cancelled.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::runs::RunStart;
use crate::config::{Home, Settings};
use crate::engine::launch::{self, LimitFlags, Shape};
use crate::engine::{self, EngineEvent, Records, RunId, Transports};

/// Events waiting between the engine and the console's loop: bounded, so a flood of output
/// slows the engine (which coalesces and caps it) instead of growing memory.
pub const ENGINE_CHANNEL: usize = 1024;

/// A run the engine is working on.
pub struct RunTask {
    pub cancel: CancellationToken,
    pub task: JoinHandle<()>,
}

/// Starts `start` on the engine over `transports`; must be called inside the tokio runtime.
/// Errors (a bad timeout in config.toml) are returned before anything runs.
pub fn spawn_run(
    home: &Home,
    settings: &Settings,
    start: RunStart,
    transports: Arc<Transports>,
    events: mpsc::Sender<(RunId, EngineEvent)>,
) -> Result<RunTask, String> {
    let spec = launch::exec_spec(&start.command, settings, LimitFlags::default())
        .map_err(|e| e.to_string())?;
    if let Err(e) = home.ensure_writable_dirs() {
        tracing::warn!(error = %e, "this run may not be recorded");
    }
    let records = Records::new(home, &settings.store);
    let request = launch::request(
        Some(start.id),
        start.hosts,
        start.selector,
        start.command,
        spec,
        settings,
        Shape::default(),
    );
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    let task = tokio::spawn(async move {
        let id = request.id.clone();
        let (tx, mut rx) = mpsc::channel(ENGINE_CHANNEL);
        let forward = tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                if events.send((id.clone(), event)).await.is_err() {
                    // The console is gone (quitting): keep draining so the engine finishes
                    // its cancel and records the run.
                    while rx.recv().await.is_some() {}
                    break;
                }
            }
        });
        let result = engine::run(request, &transports, Some(&records), tx, token).await;
        tracing::info!(run = %result.id, status = %result.status, "console run finished");
        let _ = forward.await;
    });
    Ok(RunTask { cancel, task })
}
