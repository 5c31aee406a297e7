//! The task that keeps status.json current for one front end. It reads only a `FleetReader`
//! (a session's `reader()` for the console and `fleetdeck watch`, the wallboard's own reader),
//! so any front end can run it and it can change nothing.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::doc::{StatusDoc, WriterKind};
use super::file::write_status;
use crate::engine::FleetReader;

/// How often the counts are taken (and written if they changed).
pub const WRITE_EVERY: Duration = Duration::from_secs(2);
/// Unchanged counts are still rewritten this often, so readers can tell a live writer from a
/// dead one by the file's `ts`.
pub const REFRESH_AFTER: Duration = Duration::from_secs(10);

/// The file as we last left it, to notice another front end (or a person) replacing it.
type FileId = Option<(u64, u64)>;

fn file_id(path: &Path) -> FileId {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Writes `reader`'s counts to `path` as `writer` every `WRITE_EVERY` when they changed, when
/// the file is `REFRESH_AFTER` old, or when someone else wrote it since (with two front ends on
/// one home the newest write wins, and the survivor takes the file back within `WRITE_EVERY`
/// when the other stops). Ends when `stop` is cancelled. Inside the tokio runtime.
pub fn spawn_status_writer(
    reader: FleetReader,
    path: PathBuf,
    writer: WriterKind,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let pid = std::process::id();
        let names: Vec<String> = reader.hosts().iter().map(|h| h.name.clone()).collect();
        let mut tick = tokio::time::interval(WRITE_EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut last: Option<(StatusDoc, Instant, FileId)> = None;
        // Said once per distinct failure, not every two seconds.
        let mut failing: Option<String> = None;
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            let doc = StatusDoc::of(
                &reader.snapshot(),
                names.iter().map(String::as_str),
                writer,
                pid,
                SystemTime::now(),
            );
            let due = match &last {
                None => true,
                Some((prev, at, id)) => {
                    !prev.same_content(&doc)
                        || at.elapsed() >= REFRESH_AFTER
                        || file_id(&path) != *id
                }
            };
            if !due {
                continue;
            }
            let target = path.clone();
            let written = tokio::task::spawn_blocking(move || {
                write_status(&target, &doc).map(|()| (doc, file_id(&target)))
            })
            .await
            .unwrap_or_else(|e| Err(format!("the status writer failed: {e}")));
            match written {
                Ok((doc, id)) => {
                    if failing.take().is_some() {
                        tracing::info!(path = %path.display(), "status file written again");
                    }
                    last = Some((doc, Instant::now(), id));
                }
                Err(e) => {
                    if failing.as_ref() != Some(&e) {
                        tracing::warn!(error = %e, "status file not written");
                    }
                    failing = Some(e);
                }
            }
        }
    })
}
