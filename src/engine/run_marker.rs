//! A recorded run in flight leaves a marker in the state folder's `running/`: `<id>.json`, the
//! run as it started (who, targets, command, the pid and machine), held under an exclusive
//! `flock` for the run's life, and `<id>.ends.jsonl`, one line per host as it ends. The run's
//! history line removes both. A marker whose lock is free belongs to a process that died
//! mid-run; `interrupted.rs` turns it into a history record the next time fleetdeck opens the
//! home. The marker is written under a temporary name and renamed once locked, so a marker
//! that can be seen is always locked by its run or orphaned.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::types::{ActionUse, HostResult, RunRequest};
use crate::store::SCHEMA_VERSION;

/// What a marker says about its run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkerRecord {
    pub v: u32,
    pub id: String,
    pub user: String,
    pub started: String,
    pub selector: String,
    /// Every target's name, in the run's order.
    pub targets: Vec<String>,
    pub command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionUse>,
    /// Whether the run took host locks (they expire by their ttl once it died).
    #[serde(default)]
    pub locks: bool,
    pub pid: u32,
    #[serde(default)]
    pub priority: super::types::Priority,
}

/// The running side of a marker: holds the lock until dropped.
#[derive(Debug)]
pub struct RunMarker {
    /// The locked marker; the lock goes with it.
    _file: File,
    path: PathBuf,
    ends_path: PathBuf,
    ends: Mutex<Option<File>>,
}

/// `running/<id>.json` and `running/<id>.ends.jsonl`.
pub fn paths(dir: &Path, id: &str) -> (PathBuf, PathBuf) {
    let safe: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    (
        dir.join(format!("{safe}.json")),
        dir.join(format!("{safe}.ends.jsonl")),
    )
}

impl RunMarker {
    /// Writes and locks the marker of `req` in `dir`. `None` (logged) when it cannot: the run
    /// goes on, it would only not be recovered if this process died.
    pub fn begin(dir: &Path, req: &RunRequest, started: &str) -> Option<RunMarker> {
        match Self::try_begin(dir, req, started) {
            Ok(marker) => Some(marker),
            Err(e) => {
                tracing::warn!(run = %req.id, dir = %dir.display(), error = %e,
                    "cannot write the run's marker; if this process dies mid-run, the run will not be recorded");
                None
            }
        }
    }

    fn try_begin(dir: &Path, req: &RunRequest, started: &str) -> std::io::Result<RunMarker> {
        std::fs::create_dir_all(dir)?;
        let (path, ends_path) = paths(dir, &req.id);
        let record = MarkerRecord {
            v: SCHEMA_VERSION,
            id: req.id.clone(),
            user: req.user.clone(),
            started: started.to_string(),
            selector: req.selector.clone(),
            targets: req.targets.iter().map(|h| h.name.clone()).collect(),
            command: req.display_command.clone(),
            action: req.action.clone(),
            locks: req.guards.lock_ttl.is_some(),
            pid: std::process::id(),
            priority: req.priority,
        };
        let text = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
        let mut temp = path.clone();
        temp.set_extension("json.tmp");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        flock(&file, libc::LOCK_EX | libc::LOCK_NB)?;
        file.write_all(&text)?;
        // Locked before it can be seen under its name.
        std::fs::rename(&temp, &path)?;
        Ok(RunMarker {
            _file: file,
            path,
            ends_path,
            ends: Mutex::new(None),
        })
    }

    /// Notes that a host ended (one small append; a write that fails only loses the detail
    /// of a recovery that may never be needed).
    pub fn host_ended(&self, result: &HostResult) {
        let mut ends = self.ends.lock().unwrap_or_else(PoisonError::into_inner);
        if ends.is_none() {
            *ends = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&self.ends_path)
                .ok();
        }
        let Some(file) = ends.as_mut() else {
            return;
        };
        if let Ok(mut line) = serde_json::to_vec(result) {
            line.push(b'\n');
            let _ = file.write_all(&line);
        }
    }

    /// The run is recorded: the marker goes (then its lock, with the file).
    pub fn finish(self) {
        for p in [&self.path, &self.ends_path] {
            if let Err(e) = std::fs::remove_file(p)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(file = %p.display(), error = %e, "cannot remove the run's marker");
            }
        }
    }
}

/// The runs in flight in any process of this home: the markers in `dir` whose lock is held.
/// A marker whose lock is free (its process died) is left for `interrupted::recover`, and the
/// lock taken to find out is given back at once. Read-only: for a reader's picture.
pub fn in_flight(dir: &Path) -> Vec<MarkerRecord> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut runs: Vec<MarkerRecord> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".json"))
        })
        .filter_map(|path| {
            let file = File::open(&path).ok()?;
            match flock(&file, libc::LOCK_SH | libc::LOCK_NB) {
                // Free: its process is gone (closing the file gives the lock back).
                Ok(()) => None,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let text = std::fs::read_to_string(&path).ok()?;
                    serde_json::from_str(&text).ok()
                }
                Err(_) => None,
            }
        })
        .collect();
    runs.sort_by(|a, b| a.started.cmp(&b.started));
    runs
}

/// flock(2) on `file`, retried when a signal interrupts it.
pub(crate) fn flock(file: &File, op: libc::c_int) -> std::io::Result<()> {
    loop {
        // SAFETY: flock on a descriptor `file` owns for the duration of the call.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}
