//! One queued run on the engine, so that it always ends in exactly one `RunFinished`: the run
//! goes through `run_in` in its own task, and should that task panic the run is still
//! finished (every host in error, recorded) instead of vanishing. Events are relayed so the
//! queue learns of the end before the front end does. Also the queue's audit lines.

use tokio::sync::mpsc;

use crate::engine::context::{RunContext, RunControl};
use crate::engine::records::{AuditRecord, Records};
use crate::engine::scheduler::run_in;
use crate::engine::types::{EngineEvent, HostResult, HostState, RunRequest, RunResult, RunStatus};
use crate::store::now_rfc3339;
use crate::transport::ErrorKind;

/// Events between the engine and the relay (the front end's channel bounds the rest).
const RELAY: usize = 64;

/// Runs `req` to its end within `ctx`, with `control`. `on_finish` runs once, just before
/// `RunFinished` is passed on: whoever reads the events sees the queue already past the run.
pub(super) async fn run_guarded(
    req: RunRequest,
    ctx: RunContext,
    records: Option<Records>,
    events: mpsc::Sender<EngineEvent>,
    control: RunControl,
    on_finish: impl FnOnce() + Send + 'static,
) {
    // Kept for the unlikely panic below: the record needs the run's names and command.
    let fallback = req.clone();
    let (tx, mut rx) = mpsc::channel(RELAY);
    let run_records = records.clone();
    let task =
        tokio::spawn(async move { run_in(req, &ctx, run_records.as_ref(), tx, control).await });
    let mut on_finish = Some(on_finish);
    let mut reader_gone = false;
    while let Some(event) = rx.recv().await {
        if matches!(event, EngineEvent::RunFinished { .. })
            && let Some(f) = on_finish.take()
        {
            f();
        }
        // A front end that stopped reading must not stall the run: keep draining.
        if !reader_gone && events.send(event).await.is_err() {
            reader_gone = true;
        }
    }
    match task.await {
        Ok(result) => {
            tracing::debug!(run = %result.id, status = %result.status, "queued run finished");
        }
        Err(e) => {
            tracing::error!(run = %fallback.id, error = %e, "a queued run's task failed");
            let result = crashed(&fallback, &e.to_string());
            if let Some(records) = &records
                && let Err(e) = records.append_history(&result)
            {
                tracing::warn!(run = %result.id, error = %e, "cannot append the run to history");
            }
            if let Some(f) = on_finish.take() {
                f();
            }
            let _ = events
                .send(EngineEvent::RunFinished {
                    result: Box::new(result),
                })
                .await;
        }
    }
}

/// The result of a run whose engine task failed: every host in error, saying so.
fn crashed(req: &RunRequest, error: &str) -> RunResult {
    let now = now_rfc3339();
    let message = format!("internal error in fleetdeck while running this run: {error}");
    RunResult {
        id: req.id.clone(),
        user: req.user.clone(),
        started: now.clone(),
        finished: now,
        selector: req.selector.clone(),
        targets: req.folded_targets(),
        command: req.display_command.clone(),
        status: RunStatus::Failed,
        hosts: req
            .targets
            .iter()
            .map(|h| HostResult {
                host: h.name.clone(),
                state: HostState::Error {
                    kind: ErrorKind::Io,
                    message: message.clone(),
                },
                exit_code: None,
                duration_ms: 0,
                bytes_out: 0,
                bytes_err: 0,
                first_error_line: Some(message.clone()),
                attempts: 1,
            })
            .collect(),
        action: req.action.clone(),
    }
}

/// Appends an operator's audit line, when the queue keeps records.
pub(super) fn record_audit(record: AuditRecord, records: Option<&Records>) {
    if let Some(records) = records {
        records.audit(&record);
    }
}
