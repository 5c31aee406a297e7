//! Starts confirmed runs on the engine through the same setup as `fleetdeck run`
//! (`engine::launch`) over the console's shared transports (`transports.rs`: their pooled
//! connections outlive the run); each run's events go to the console's loop tagged with the
//! run id. The console submits runs to its run queue (`submit_run`): they wait there while
//! `[queue] max_running` runs run. `spawn_run` starts one at once, outside any queue (for
//! tests that need a single run). Cancelling is the engine's own: the run is recorded as
//! cancelled.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::runs::RunStart;
use crate::config::{Home, Settings};
use crate::engine::launch::{self, LimitFlags, Shape};
use crate::engine::{self, EngineEvent, Records, RunId, RunQueue, RunRequest, Transports};

/// Events waiting between the engine and the console's loop: bounded, so a flood of output
/// slows the engine (which coalesces and caps it) instead of growing memory.
pub const ENGINE_CHANNEL: usize = 1024;

/// A run the engine is working on.
pub struct RunTask {
    pub cancel: CancellationToken,
    pub task: JoinHandle<()>,
}

/// Submits `start` to `queue`, to run over `transports` when its turn comes; must be called
/// inside the tokio runtime. Errors (a bad timeout in config.toml, a full queue) are returned
/// before anything runs.
pub fn submit_run(
    home: &Home,
    settings: &Settings,
    start: RunStart,
    queue: &RunQueue,
    transports: Arc<Transports>,
    events: mpsc::Sender<(RunId, EngineEvent)>,
) -> Result<RunId, String> {
    let rerun_of = start.rerun_of.clone();
    let request = request_for(home, settings, start)?;
    let id = request.id.clone();
    let rerun_audit = rerun_of.map(|of| rerun_record(&request, of));
    let (tx, rx) = mpsc::channel(ENGINE_CHANNEL);
    queue
        .submit_over(request, Some((*transports).clone()), tx)
        .map_err(|e| e.to_string())?;
    if let Some(record) = rerun_audit
        && let Err(e) = Records::new(home, &settings.store).append_audit(&record)
    {
        tracing::warn!(run = %id, error = %e, "cannot write the audit record");
    }
    tokio::spawn(forward(id.clone(), rx, events));
    Ok(id)
}

/// The audit line of a rerun: the run it repeats, where it did not end ok (the new run then
/// records its own `run` lines).
fn rerun_record(request: &engine::RunRequest, of: RunId) -> engine::AuditRecord {
    engine::AuditRecord {
        who: request.user.clone(),
        action: "rerun".to_string(),
        run_id: of,
        what: format!(
            "rerun where it did not end ok, as run {}: {}",
            request.id, request.display_command
        ),
        targets: crate::inventory::nodeset::fold(request.targets.iter().map(|h| h.name.as_str())),
        count: request.targets.len(),
        result: "requested".to_string(),
    }
}

/// Starts `start` on the engine over `transports` at once, outside any queue; must be called
/// inside the tokio runtime. Errors (a bad timeout in config.toml) are returned before
/// anything runs.
pub fn spawn_run(
    home: &Home,
    settings: &Settings,
    start: RunStart,
    transports: Arc<Transports>,
    events: mpsc::Sender<(RunId, EngineEvent)>,
) -> Result<RunTask, String> {
    let request = request_for(home, settings, start)?;
    let records = Records::new(home, &settings.store);
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    let task = tokio::spawn(async move {
        let (tx, rx) = mpsc::channel(ENGINE_CHANNEL);
        let forward = tokio::spawn(forward(request.id.clone(), rx, events));
        let result = engine::run(request, &transports, Some(&records), tx, token).await;
        tracing::info!(run = %result.id, status = %result.status, "console run finished");
        let _ = forward.await;
    });
    Ok(RunTask { cancel, task })
}

/// The engine's request for a confirmed run, as `fleetdeck run` builds it.
fn request_for(home: &Home, settings: &Settings, start: RunStart) -> Result<RunRequest, String> {
    let spec = launch::exec_spec(&start.command, settings, LimitFlags::default())
        .map_err(|e| e.to_string())?;
    if let Err(e) = home.ensure_writable_dirs() {
        tracing::warn!(error = %e, "this run may not be recorded");
    }
    if let Some(prepared) = start.prepared {
        // An action: its request (guards, action use, stdin secrets) was built and previewed.
        return Ok(prepared.into_request());
    }
    Ok(launch::request(
        Some(start.id),
        start.hosts,
        start.selector,
        start.command,
        spec,
        settings,
        Shape::default(),
    ))
}

/// Passes run `id`'s events to the console, tagged with the id, until the run ends.
async fn forward(
    id: RunId,
    mut rx: mpsc::Receiver<EngineEvent>,
    events: mpsc::Sender<(RunId, EngineEvent)>,
) {
    while let Some(event) = rx.recv().await {
        if events.send((id.clone(), event)).await.is_err() {
            // The console is gone (quitting): keep draining so the engine finishes its
            // cancel and records the run.
            while rx.recv().await.is_some() {}
            break;
        }
    }
}

/// The console's run queue, for its whole life: `[queue]` limits, and one context shared by
/// every run (`launch::context`, as `fleetdeck run` has: fan-out budget, host slots, circuit
/// breaker, lock manager); runs recorded under `home`. Each run brings its own transports
/// (`submit_run`), built lazily by the console. Inside the tokio runtime.
pub fn console_queue(home: &Home, settings: &Settings) -> RunQueue {
    let ctx = launch::context(Transports::new(), home, settings);
    let records = Records::new(home, &settings.store);
    RunQueue::new(ctx, Some(records), &settings.queue)
}
