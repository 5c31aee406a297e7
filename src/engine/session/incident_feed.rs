//! The incident book as the session's readers see it: a task follows incidents.jsonl (a
//! `Book` kept open, so each look reads only the lines appended since the last, on a blocking
//! thread) every `INCIDENTS_POLL` or when woken by a write of this session, and publishes
//! every active incident plus the newest resolved ones as one shared `IncidentsFrame` (one
//! change notice, only when something changed). It writes nothing (writes: incident_ops.rs).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::view::SharedView;
use crate::incident::{Book, Incident};
use crate::store::Rotation;

/// How often the book is looked at for lines other processes appended.
pub const INCIDENTS_POLL: Duration = Duration::from_secs(1);
/// Resolved incidents a frame carries (newest first), after all the active ones.
pub const RECENT_RESOLVED: usize = 50;

/// The incidents a snapshot shows: active ones (open, acked) newest first, then at most
/// `RECENT_RESOLVED` resolved ones, newest first. Shared by `Arc`, never copied per snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentsFrame {
    pub incidents: Vec<Incident>,
    /// Why the book could not be read (the frame before it stays), if it could not.
    pub problem: Option<String>,
}

impl IncidentsFrame {
    /// The frame of `book` now.
    pub fn of_book(book: &Book) -> IncidentsFrame {
        let mut active = Vec::new();
        let mut resolved = Vec::new();
        for incident in book.list(true) {
            if incident.state.is_active() {
                active.push(incident.clone());
            } else if resolved.len() < RECENT_RESOLVED {
                resolved.push(incident.clone());
            }
        }
        active.extend(resolved);
        IncidentsFrame {
            incidents: active,
            problem: None,
        }
    }

    /// Active incidents, by severity (critical, warning, info).
    pub fn active_by_severity(&self) -> [usize; 3] {
        let mut counts = [0; 3];
        for i in self.incidents.iter().filter(|i| i.state.is_active()) {
            counts[match i.severity {
                crate::incident::Severity::Critical => 0,
                crate::incident::Severity::Warning => 1,
                crate::incident::Severity::Info => 2,
            }] += 1;
        }
        counts
    }
}

/// After a wake, how long the follower waits for the rest of a burst before reading.
const WAKE_COALESCE: std::time::Duration = std::time::Duration::from_millis(50);

/// Follows the book at `path` into `view` until `stop`; `wake` makes it look at once.
pub(super) fn follow(
    path: PathBuf,
    rotation: Rotation,
    view: Arc<SharedView>,
    wake: Arc<Notify>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut book: Option<Book> = None;
        let mut tick = tokio::time::interval(INCIDENTS_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
                () = wake.notified() => {
                    // A burst of writes (agents' alerts one by one) becomes one read.
                    tokio::time::sleep(WAKE_COALESCE).await;
                }
            }
            let file = path.clone();
            let read = tokio::task::spawn_blocking(move || look(book, &file, rotation)).await;
            match read {
                Ok((kept, Ok(frame))) => {
                    book = kept;
                    if let Some(frame) = frame {
                        view.set_incidents(frame);
                    }
                }
                Ok((kept, Err(problem))) => {
                    book = kept;
                    tracing::warn!(file = %path.display(), error = %problem,
                        "cannot read the incident book");
                    view.set_incidents_problem(Some(problem));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "incident book reader stopped");
                    return;
                }
            }
        }
    })
}

/// One look: opens the book the first time, else reads what was appended; a frame when it
/// read anything new (or opened it).
#[allow(clippy::type_complexity)]
fn look(
    book: Option<Book>,
    path: &std::path::Path,
    rotation: Rotation,
) -> (Option<Book>, Result<Option<IncidentsFrame>, String>) {
    let mut book = match book {
        Some(book) => book,
        None => match Book::open(path, rotation) {
            Ok(book) => {
                let frame = IncidentsFrame::of_book(&book);
                return (Some(book), Ok(Some(frame)));
            }
            Err(e) => return (None, Err(e.to_string())),
        },
    };
    let before = book.events_read();
    if let Err(e) = book.refresh() {
        return (Some(book), Err(e.to_string()));
    }
    for damaged in book.take_damaged() {
        tracing::warn!(%damaged, "incident book: skipped a damaged line");
    }
    let frame = (book.events_read() != before).then(|| IncidentsFrame::of_book(&book));
    (Some(book), Ok(frame))
}
