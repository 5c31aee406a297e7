//! The scheduler: runs a request across its hosts with a sliding fan-out window, batches and
//! max-fail, honours cancel, and records the run.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::context::{RunContext, RunControl};
use super::execution::{HostJob, execute};
use super::fd_limit::{fanout_for_fd_limit, raise_fd_limit};
use super::forwarder::Hub;
use super::records::{AuditRecord, Records};
use super::run_marker::RunMarker;
use super::run_output::{HostRecorder, RunOutput};
use super::transports::Transports;
use super::types::{EngineEvent, HostResult, HostState, RunId, RunRequest, RunResult, RunStatus};
use crate::store::now_rfc3339;
use crate::transport::ErrorKind;

/// A new run id: a ULID, so ids sort by time.
pub fn new_run_id() -> RunId {
    ulid::Ulid::new().to_string()
}

/// Reason given to hosts not attempted because of a cancel.
const CANCELLED_REASON: &str = "run cancelled";

/// Runs `req` over `transports` alone (no budget shared with other runs, no pause): see
/// `run_in`.
pub async fn run(
    req: RunRequest,
    transports: &Transports,
    records: Option<&Records>,
    events: mpsc::Sender<EngineEvent>,
    cancel: CancellationToken,
) -> RunResult {
    let ctx = RunContext::plain(transports.clone());
    let (control, _pause) = RunControl::new(cancel);
    run_in(req, &ctx, records, events, control).await
}

/// Runs `req` to completion (or cancel) within `ctx`. Sends events to `events` (bounded; if the receiver is
/// slow the engine waits — never drops state events; consecutive output chunks of a host may
/// be coalesced, and output beyond `req.output_cap` waiting for a slow receiver is dropped
/// oldest first and reported with `Dropped`). `RunStarted` comes first and `RunFinished` last.
/// Returns the result, which has already been recorded if `records` is Some.
pub async fn run_in(
    req: RunRequest,
    ctx: &RunContext,
    records: Option<&Records>,
    events: mpsc::Sender<EngineEvent>,
    control: RunControl,
) -> RunResult {
    let cancel = control.cancel.clone();
    let started = now_rfc3339();
    let total = req.targets.len();
    let targets = req.folded_targets();
    let _ = events
        .send(EngineEvent::RunStarted {
            id: req.id.clone(),
            hosts: total,
        })
        .await;
    let audit = |result: &str| AuditRecord::run(&req, result);
    // Written before anything runs: if this process dies mid-run, the next one records it.
    let marker = records.and_then(|r| RunMarker::begin(&r.running_dir(), &req, &started));
    if let Some(records) = records {
        records.audit(&audit(super::audit::RUN_STARTED));
    }

    let hub = Hub::new(total, req.output_cap);
    let forwarder = tokio::spawn(Arc::clone(&hub).forward(events.clone()));
    let run_output = records.and_then(|r| match r.open_run_output(&req.id) {
        Ok(writer) => RunOutput::start(writer),
        Err(e) => {
            tracing::warn!(run = %req.id, error = %e, "cannot record run output; the run goes on");
            None
        }
    });

    let hosts = schedule(
        &req,
        ctx,
        &hub,
        run_output.as_ref(),
        marker.as_ref(),
        &control,
    )
    .await;
    let cancelled = cancel.is_cancelled();
    // The breaker's counts outlive the process: the next run skips dead hosts fast too.
    // (A small file, but written with fsync: kept off the runtime's workers.)
    let breaker = ctx.breaker.clone();
    if let Err(e) = tokio::task::spawn_blocking(move || breaker.save()).await {
        tracing::warn!(run = %req.id, error = %e, "cannot save the circuit breaker state");
    }

    hub.close();
    if let Err(e) = forwarder.await {
        tracing::warn!(run = %req.id, error = %e, "the event forwarder stopped early");
    }
    if let Some(out) = run_output {
        out.finish().await;
    }
    let result = RunResult {
        id: req.id.clone(),
        user: req.user.clone(),
        started,
        finished: now_rfc3339(),
        selector: req.selector.clone(),
        targets: targets.clone(),
        command: req.display_command.clone(),
        status: RunStatus::of(cancelled, &hosts),
        action: req.action.clone(),
        hosts,
    };
    if let Some(records) = records {
        // A full disk must not lose the result: it is still returned and shown.
        if let Err(e) = records.append_history(&result) {
            tracing::warn!(run = %req.id, error = %e, "cannot append the run to history");
        }
        records.audit(&audit(result.status.as_str()));
    }
    if let Some(marker) = marker {
        marker.finish();
    }
    let _ = events
        .send(EngineEvent::RunFinished {
            result: Box::new(result.clone()),
        })
        .await;
    result
}

/// The fan-out actually used: the request's, capped to what the open-file limit allows.
fn effective_fanout(requested: usize) -> usize {
    static FD_LIMIT: OnceLock<u64> = OnceLock::new();
    let limit = *FD_LIMIT.get_or_init(raise_fd_limit);
    let cap = fanout_for_fd_limit(limit);
    let requested = requested.max(1);
    if requested > cap {
        tracing::warn!(
            requested,
            used = cap,
            fd_limit = limit,
            "fan-out capped to fit the open-file limit"
        );
    }
    requested.min(cap)
}

/// Starts hosts in order within the window, batch after batch, until all are done or the run
/// stops (max-fail, cancel); returns every host's result in target order. While the run is
/// paused no host starts (hosts already started go on), so a pause holds the next batch,
/// and within a batch the hosts not yet in the window.
async fn schedule(
    req: &RunRequest,
    ctx: &RunContext,
    hub: &Arc<Hub>,
    run_output: Option<&RunOutput>,
    marker: Option<&RunMarker>,
    control: &RunControl,
) -> Vec<HostResult> {
    let cancel = &control.cancel;
    let mut pause = control.pause.clone();
    // A dropped sender means the pause can no longer change: stop watching it.
    let mut pause_live = true;
    let run_id: Arc<str> = Arc::from(req.id.as_str());
    let guards = Arc::new(req.guards.clone());
    let total = req.targets.len();
    let fanout = effective_fanout(req.fanout);
    let batch = req.batch.map_or(total, |b| b.of(total)).max(1);
    let max_fail = req.max_fail.map(|m| m.of(total));
    let mut results: Vec<Option<HostResult>> = vec![None; total];
    let mut running: JoinSet<HostResult> = JoinSet::new();
    let mut task_host: HashMap<tokio::task::Id, usize> = HashMap::new();
    let mut next = 0;
    let mut batch_end = batch.min(total);
    let mut failures = 0usize;

    // Each pass starts hosts, or ends one, or stops the run (once), or sees the pause flip:
    // bounded by 2 * total + 2 plus the pause changes.
    loop {
        // A cancel seen by hosts first (their tasks end) must still stop new starts.
        if cancel.is_cancelled() && next < total {
            skip_rest(req, hub, &mut results, next, CANCELLED_REASON);
            next = total;
            batch_end = total;
        }
        if next == batch_end && running.is_empty() && batch_end < total {
            batch_end = (batch_end + batch).min(total);
        }
        let paused = pause_live && *pause.borrow_and_update();
        while !paused && next < batch_end && running.len() < fanout {
            let host = &req.targets[next];
            let job = HostJob {
                index: next,
                host: host.clone(),
                transport: ctx.transports.get(host.transport),
                spec: req.spec.clone(),
                hub: Arc::clone(hub),
                recorder: run_output.map_or_else(HostRecorder::off, |o| {
                    o.recorder(&host.name, req.output_cap)
                }),
                cancel: cancel.child_token(),
                run_id: Arc::clone(&run_id),
                guards: Arc::clone(&guards),
                ctx: ctx.clone(),
            };
            let handle = running.spawn(execute(job));
            task_host.insert(handle.id(), next);
            next += 1;
        }
        if running.is_empty() && (next >= total || !paused) {
            break;
        }
        let stop_reason = tokio::select! {
            changed = pause.changed(), if pause_live && next < total => {
                pause_live = changed.is_ok();
                continue;
            }
            joined = running.join_next_with_id(), if !running.is_empty() => {
                let Some(joined) = joined else { continue };
                let (index, result) = match joined {
                    Ok((id, result)) => (task_host.remove(&id), result),
                    Err(e) => {
                        let index = task_host.remove(&e.id());
                        (index, crashed(req, hub, index, &e))
                    }
                };
                let Some(index) = index else { continue };
                if result.state.is_failure() {
                    failures += 1;
                }
                if let Some(marker) = marker {
                    marker.host_ended(&result);
                }
                results[index] = Some(result);
                match max_fail {
                    Some(limit) if failures >= limit && next < total => {
                        Some(format!("max-fail reached: {failures} failed"))
                    }
                    _ => None,
                }
            }
            () = cancel.cancelled(), if next < total => Some(CANCELLED_REASON.to_string()),
        };
        if let Some(reason) = stop_reason {
            skip_rest(req, hub, &mut results, next, &reason);
            next = total;
            batch_end = total;
        }
    }
    results
        .into_iter()
        .zip(&req.targets)
        .map(|(r, host)| {
            // Every host was started or skipped above; this only guards the invariant.
            r.unwrap_or_else(|| {
                skipped(
                    &host.name,
                    HostState::Skipped {
                        reason: CANCELLED_REASON.to_string(),
                    },
                )
            })
        })
        .collect()
}

/// Hosts `from..` will not be attempted.
fn skip_rest(
    req: &RunRequest,
    hub: &Hub,
    results: &mut [Option<HostResult>],
    from: usize,
    reason: &str,
) {
    for (index, host) in req.targets.iter().enumerate().skip(from) {
        let state = HostState::Skipped {
            reason: reason.to_string(),
        };
        hub.push_state(index, state.clone());
        results[index] = Some(skipped(&host.name, state));
    }
}

fn skipped(host: &str, state: HostState) -> HostResult {
    HostResult::never_ran(host, state)
}

/// A host task that panicked: the host ends in an error rather than taking the run down.
fn crashed(
    req: &RunRequest,
    hub: &Hub,
    index: Option<usize>,
    e: &tokio::task::JoinError,
) -> HostResult {
    let name = index
        .and_then(|i| req.targets.get(i))
        .map_or("?", |h| h.name.as_str());
    let message = format!("{name}: internal error in fleetdeck while running this host: {e}");
    tracing::error!(host = name, error = %e, "host task failed");
    let state = HostState::Error {
        kind: ErrorKind::Io,
        message: message.clone(),
    };
    if let Some(i) = index {
        hub.push_state(i, state.clone());
    }
    HostResult {
        first_error_line: Some(message),
        ..skipped(name, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_ulids() {
        let (a, b) = (new_run_id(), new_run_id());
        assert_eq!(a.len(), 26);
        assert_ne!(a, b);
    }
}
