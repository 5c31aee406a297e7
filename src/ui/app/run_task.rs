//! Hands confirmed runs to the fleet session: the request is built through the same setup as
//! `fleetdeck run` (`engine::launch`), then submitted to the session's queue, where it waits
//! while `[queue] max_running` runs run; its events come back to the console's loop tagged
//! with the run id. Cancelling is the engine's own: the run is recorded as cancelled.

use tokio::sync::mpsc;

use super::runs::RunStart;
use crate::config::{Home, Settings};
use crate::engine::launch::{self, LimitFlags, Shape};
use crate::engine::{FleetSession, RunId, RunRequest, SessionEvent};

/// Submits `start` to `session`; inside the tokio runtime. Errors (a bad timeout in
/// config.toml, a full queue, an ssh config that does not parse) come back before anything
/// runs.
pub fn submit_run(
    home: &Home,
    settings: &Settings,
    start: RunStart,
    session: &FleetSession,
    events: mpsc::Sender<SessionEvent>,
) -> Result<RunId, String> {
    let rerun_of = start.rerun_of.clone();
    let request = request_for(home, settings, start)?;
    let submitted = match rerun_of {
        Some(of) => session.submit_rerun(request, &of, events),
        None => session.submit(request, events),
    };
    submitted.map_err(|e| e.to_string())
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
