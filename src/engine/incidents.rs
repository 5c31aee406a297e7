//! Agent alerts into the incident book: each alert becomes an observation (fingerprint
//! `host/watcher`; a resolved alert clears it), written durably before the alert is
//! acknowledged to its agent. The session's and the standalone reader's collectors
//! (session/collect.rs) call `AlertRecorder::record` for every alert they receive, so every
//! front end that watches agents (console, wallboard, `fleetdeck incidents`) fills the same
//! book, and an acknowledged alert is always in it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use super::incident_notices::Notices;
use crate::config::Home;
use crate::config::settings::StoreSettings;
use crate::incident::book::rotation_of;
use crate::incident::{Book, BookError, Event, Incident, Observation, Severity, Source};
use crate::protocol;
use crate::store::Rotation;
use crate::transport::agent::AgentAlert;

/// The observation an agent alert is.
pub fn observation(alert: &AgentAlert) -> Observation {
    let a = &alert.alert;
    let title = if a.summary.trim().is_empty() {
        format!("{} on {}", a.watcher, alert.host)
    } else {
        a.summary.clone()
    };
    let mut labels = BTreeMap::new();
    labels.insert("host".to_string(), alert.host.clone());
    labels.insert("watcher".to_string(), a.watcher.clone());
    let mut annotations = BTreeMap::new();
    if let Some(detail) = a.detail.as_ref().filter(|d| !d.is_empty()) {
        annotations.insert("detail".to_string(), detail.clone());
    }
    Observation {
        source: Source::Agent,
        fingerprint: format!("{}/{}", alert.host, a.watcher),
        title,
        severity: severity(a.severity),
        hosts: vec![alert.host.clone()],
        labels,
        annotations,
        firing: !a.resolved,
        ts: a.ts.clone(),
    }
}

fn severity(s: protocol::Severity) -> Severity {
    match s {
        protocol::Severity::Info => Severity::Info,
        protocol::Severity::Warning => Severity::Warning,
        protocol::Severity::Critical => Severity::Critical,
    }
}

/// What recording a batch of observations did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Lines added to the book.
    pub written: usize,
    /// Observations the book could not take, and why.
    pub failures: Vec<String>,
}

/// Writes agent alerts into one book, opened at the first alert (so a damaged or unreadable
/// book never stops a session from starting; each failure is returned to the caller, who
/// then leaves the alert unacknowledged). Cheap to clone.
#[derive(Clone)]
pub struct AlertRecorder {
    path: PathBuf,
    rotation: Rotation,
    book: Arc<Mutex<Option<Book>>>,
    /// Told of every event this recorder writes (`[notify]`).
    notices: Notices,
    /// Woken after each write (the session's book follower), so it shows at once.
    wake: Option<Arc<tokio::sync::Notify>>,
}

impl AlertRecorder {
    /// For the book of `home`.
    pub fn new(home: &Home, store: &StoreSettings) -> AlertRecorder {
        AlertRecorder {
            path: home.incidents_file(),
            rotation: rotation_of(store),
            book: Arc::new(Mutex::new(None)),
            notices: Notices::default(),
            wake: None,
        }
    }

    /// Wakes `wake` after every write (the session's book follower).
    pub fn with_wake(mut self, wake: Arc<tokio::sync::Notify>) -> AlertRecorder {
        self.wake = Some(wake);
        self
    }

    /// Sends the events it writes to `notices` too.
    pub fn with_notices(mut self, notices: Notices) -> AlertRecorder {
        self.notices = notices;
        self
    }

    /// Where its events are told.
    pub fn notices(&self) -> &Notices {
        &self.notices
    }

    /// Records `alert` (on a blocking thread: it takes a file lock and syncs). Ok once the
    /// line is on disk, or when the alert told the book nothing new.
    pub async fn record(&self, alert: &AgentAlert) -> Result<Option<Event>, BookError> {
        let obs = observation(alert);
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.record_now(&obs))
            .await
            .unwrap_or_else(|e| {
                Err(BookError::Invalid(format!(
                    "recording an alert stopped unexpectedly: {e}"
                )))
            })
    }

    /// Records `batch` on a blocking thread (the book takes a file lock and syncs); each
    /// failure is named by its observation's fingerprint.
    pub async fn record_batch(&self, batch: Vec<Observation>) -> Recorded {
        if batch.is_empty() {
            return Recorded::default();
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut recorded = Recorded::default();
            // One transaction for the batch: one lock, one sync.
            let results = this.observe_all(&batch);
            for (o, result) in batch.iter().zip(results) {
                match result {
                    Ok(Some(_)) => recorded.written += 1,
                    Ok(None) => {}
                    Err(e) => recorded.failures.push(format!("{}: {e}", o.fingerprint)),
                }
            }
            recorded
        })
        .await
        .unwrap_or_else(|e| Recorded {
            written: 0,
            failures: vec![format!("recording stopped unexpectedly: {e}")],
        })
    }

    /// `record`, on the caller's thread.
    pub fn record_now(&self, obs: &Observation) -> Result<Option<Event>, BookError> {
        self.with_book(|book| book.observe(obs))
    }

    /// Runs `write` on this recorder's book (opened at first use, kept open: each write
    /// catches up with what other processes appended before it decides), then tells the
    /// `[notify]` sinks what it wrote. On the caller's thread: it takes a file lock and syncs.
    pub fn with_book<W: Into<Option<Event>> + Clone>(
        &self,
        write: impl FnOnce(&mut Book) -> Result<W, BookError>,
    ) -> Result<W, BookError> {
        let mut guard = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let book = match guard.as_mut() {
            Some(book) => book,
            None => guard.insert(Book::open(&self.path, self.rotation)?),
        };
        let written = write(book);
        for damaged in book.take_damaged() {
            tracing::warn!(%damaged, "incident book: skipped a damaged line");
        }
        if let Ok(w) = &written
            && let Some(event) = w.clone().into()
        {
            if let Some(incident) = book.get(&event.id) {
                self.notices.event(&event, incident);
            }
            self.wake();
        }
        written
    }

    /// `observations` in one transaction of this recorder's book (`Book::observe_all`): one
    /// result each, in order; the `[notify]` sinks are told each one written.
    fn observe_all(&self, observations: &[Observation]) -> Vec<Result<Option<Event>, BookError>> {
        let mut guard = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let book = match guard.as_mut() {
            Some(book) => book,
            None => match Book::open(&self.path, self.rotation) {
                Ok(book) => guard.insert(book),
                Err(e) => return crate::incident::book::all_failed(observations.len(), &e),
            },
        };
        let results = book.observe_all(observations);
        for damaged in book.take_damaged() {
            tracing::warn!(%damaged, "incident book: skipped a damaged line");
        }
        let written: Vec<&Event> = results
            .iter()
            .filter_map(|r| r.as_ref().ok().and_then(Option::as_ref))
            .collect();
        for event in &written {
            if let Some(incident) = book.get(&event.id) {
                self.notices.event(event, incident);
            }
        }
        if !written.is_empty() {
            self.wake();
        }
        results
    }

    /// Tells the session's book follower that the book changed, so front ends show it now
    /// rather than at the follower's next look.
    fn wake(&self) {
        if let Some(wake) = &self.wake {
            wake.notify_one();
        }
    }

    /// The incident a unique id prefix names, as the book has it after catching up.
    pub fn find(&self, prefix: &str) -> Result<Incident, BookError> {
        self.with_book(|book| {
            book.refresh()?;
            Ok(Found(book.find(prefix).cloned()?))
        })
        .map(|found| found.0)
    }
}

/// An incident read, not written: nothing to tell the sinks.
#[derive(Clone)]
struct Found(Incident);

impl From<Found> for Option<Event> {
    fn from(_: Found) -> Option<Event> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(resolved: bool) -> AgentAlert {
        AgentAlert {
            host: "web01".into(),
            alert: protocol::Alert {
                seq: 3,
                ts: "2026-12-07T10:00:00Z".into(),
                watcher: "nginx".into(),
                severity: protocol::Severity::Critical,
                summary: "process nginx is not running".into(),
                detail: Some("no process matches".into()),
                resolved,
            },
        }
    }

    #[test]
    fn an_alert_is_an_agent_observation_keyed_by_host_and_watcher() {
        let o = observation(&alert(false));
        assert_eq!(o.source, Source::Agent);
        assert_eq!(o.fingerprint, "web01/nginx");
        assert_eq!(o.severity, Severity::Critical);
        assert_eq!(o.hosts, ["web01"]);
        assert_eq!(o.labels.get("watcher").map(String::as_str), Some("nginx"));
        assert_eq!(
            o.annotations.get("detail").map(String::as_str),
            Some("no process matches")
        );
        assert!(o.firing);
        assert!(!observation(&alert(true)).firing);
    }

    #[test]
    fn recording_twice_writes_once() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::under(dir.path());
        let recorder = AlertRecorder::new(&home, &StoreSettings::default());
        let o = observation(&alert(false));
        assert!(recorder.record_now(&o).unwrap().is_some());
        assert!(recorder.record_now(&o).unwrap().is_none());
        let book = Book::for_home(&home, &StoreSettings::default()).unwrap();
        assert_eq!(book.list(false).len(), 1);
    }
}
