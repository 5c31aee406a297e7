//! Runs whose fleetdeck process died mid-run (`kill -9`, a dropped SSH session, a closed
//! laptop lid, a crash): their marker in `running/` is no longer locked. The next fleetdeck
//! process that opens the home records each once, in history.jsonl as `interrupted` (hosts
//! that ended as they ended, the others `unknown`) and in audit.jsonl, then removes the
//! marker. `history`, `export`, the console and `history rerun ID --failed` then see it like
//! any run.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::SystemTime;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::audit::AuditRecord;
use super::records::Records;
use super::run_marker::{MarkerRecord, flock, paths};
use super::types::{HostResult, HostState, RunResult, RunStatus};

/// What the unknown hosts of an interrupted run are told.
const UNKNOWN: &str = "the run's fleetdeck process ended before this host finished; \
                       whether its command ran is not known";

/// Records every orphaned run under `records`' running folder; the ids recorded. Errors are
/// logged: nothing here may stop the command that opened the home.
pub fn recover(records: &Records) -> Vec<String> {
    let dir = records.running_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut recovered = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let is_marker = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".json") && !n.ends_with(".ends.json"));
        if !is_marker {
            continue;
        }
        match recover_one(records, &path) {
            Ok(Some(id)) => recovered.push(id),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(marker = %path.display(), error = %e, "an interrupted run could not be recorded");
            }
        }
    }
    recovered
}

fn recover_one(records: &Records, path: &Path) -> Result<Option<String>, String> {
    let file = match File::open(path) {
        Ok(f) => f,
        // Recorded meanwhile by its run or by another process.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    match flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
        Ok(()) => {}
        // Its run is alive.
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(None),
        Err(e) => return Err(format!("lock: {e}")),
    }
    // Another process may have recorded and removed it between our open and our lock.
    let same = match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(now)) => held.ino() == now.ino() && held.dev() == now.dev(),
        _ => false,
    };
    if !same {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let marker: MarkerRecord =
        serde_json::from_str(&text).map_err(|e| format!("not a run marker: {e}"))?;
    let (_, ends_path) = paths(&records.running_dir(), &marker.id);
    let ended = read_ends(&ends_path);
    let last_sign = [path, &ends_path, &records.run_output_path(&marker.id)]
        .iter()
        .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .max()
        .unwrap_or_else(SystemTime::now);
    let result = interrupted_result(&marker, ended, last_sign);
    records
        .append_history(&result)
        .map_err(|e| format!("history: {e}"))?;
    let unknown = result
        .hosts
        .iter()
        .filter(|h| matches!(h.state, HostState::Unknown { .. }))
        .count();
    let what = if marker.locks {
        format!(
            "{} (process {} died; {unknown} host(s) unknown; its host locks expire by their ttl)",
            marker.command, marker.pid
        )
    } else {
        format!(
            "{} (process {} died; {unknown} host(s) unknown)",
            marker.command, marker.pid
        )
    };
    records.audit(&AuditRecord {
        who: marker.user.clone(),
        action: "run".to_string(),
        run_id: marker.id.clone(),
        what,
        targets: result.targets.clone(),
        count: result.hosts.len(),
        result: RunStatus::Interrupted.as_str().to_string(),
    });
    for p in [path, ends_path.as_path()] {
        if let Err(e) = std::fs::remove_file(p)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %p.display(), error = %e, "cannot remove a recovered run's marker");
        }
    }
    tracing::warn!(run = %marker.id, pid = marker.pid, "recorded a run whose process died as interrupted");
    Ok(Some(marker.id))
}

/// The hosts that ended, as they ended (a torn last line is skipped).
fn read_ends(path: &Path) -> Vec<HostResult> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The history record of an interrupted run: every target, in order, as it ended or unknown.
pub fn interrupted_result(
    marker: &MarkerRecord,
    mut ended: Vec<HostResult>,
    last_sign: SystemTime,
) -> RunResult {
    let hosts = marker
        .targets
        .iter()
        .map(|name| match ended.iter().position(|h| &h.host == name) {
            Some(i) => ended.swap_remove(i),
            None => HostResult::never_ran(
                name,
                HostState::Unknown {
                    reason: UNKNOWN.to_string(),
                },
            ),
        })
        .collect();
    let finished = OffsetDateTime::from(last_sign)
        .format(&Rfc3339)
        .unwrap_or_else(|_| marker.started.clone());
    RunResult {
        id: marker.id.clone(),
        user: marker.user.clone(),
        started: marker.started.clone(),
        finished,
        selector: marker.selector.clone(),
        targets: crate::inventory::nodeset::fold(marker.targets.iter().map(String::as_str)),
        command: marker.command.clone(),
        status: RunStatus::Interrupted,
        hosts,
        action: marker.action.clone(),
    }
}
