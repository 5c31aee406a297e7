//! What a person does to an incident through the session (never through a `FleetReader`):
//! acknowledge (an Alertmanager incident's silence made first; when it cannot be made nothing
//! is written), resolve, note, and record a run made for it. The book's file I/O runs on a
//! blocking thread; each write is audited, told to the `[notify]` sinks and wakes the
//! session's book follower so readers see it at once.

use std::sync::Arc;

use super::FleetSession;
use crate::config::current_user;
use crate::engine::alertmanager_feed::silence_labels;
use crate::engine::audit::AuditRecord;
use crate::incident::alertmanager::AlertmanagerSource;
use crate::incident::{Book, BookError, Event, Incident, Source};

/// Why a write to an incident did not happen.
#[derive(Debug, thiserror::Error)]
pub enum IncidentOpError {
    #[error(transparent)]
    Book(#[from] BookError),
    /// The Alertmanager silence an ack makes first failed: nothing was acknowledged.
    #[error("the Alertmanager silence could not be made: {0}; nothing was acknowledged")]
    Silence(String),
    #[error("writing to the incident book stopped unexpectedly: {0}")]
    Stopped(String),
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentWritten {
    /// The incident as it is after the write.
    pub incident: Incident,
    /// The Alertmanager silence an ack made, if it made one.
    pub silence: Option<String>,
}

/// One person's act.
#[derive(Debug, Clone)]
enum Act {
    Ack(Option<String>),
    Resolve(Option<String>),
    Note(String),
    Run { run_id: String, result: String },
}

impl Act {
    fn name(&self) -> &'static str {
        match self {
            Act::Ack(_) => "ack",
            Act::Resolve(_) => "resolve",
            Act::Note(_) => "note",
            Act::Run { .. } => "action-run",
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Act::Ack(c) | Act::Resolve(c) => c.as_deref(),
            Act::Note(t) => Some(t),
            Act::Run { result, .. } => Some(result),
        }
    }
}

impl FleetSession {
    /// Acknowledges the incident `id` (a unique prefix) names, with an optional comment. An
    /// active Alertmanager incident gets its silence first (`[alertmanager] ack_silence`);
    /// when Alertmanager refuses or cannot be reached, nothing is written.
    pub async fn ack_incident(
        &self,
        id: &str,
        comment: Option<&str>,
    ) -> Result<IncidentWritten, IncidentOpError> {
        let incident = self.find_incident(id).await?;
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        let silence = self.silence_first(&incident, comment).await?;
        let comment = match (&silence, comment) {
            (Some(s), Some(c)) => Some(format!("{c} (Alertmanager silence {s})")),
            (Some(s), None) => Some(format!("Alertmanager silence {s}")),
            (None, c) => c.map(str::to_string),
        };
        let mut written = self.write_incident(incident.id, Act::Ack(comment)).await?;
        written.silence = silence;
        Ok(written)
    }

    /// Resolves the incident `id` names by hand.
    pub async fn resolve_incident(
        &self,
        id: &str,
        comment: Option<&str>,
    ) -> Result<IncidentWritten, IncidentOpError> {
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        self.write_incident(id.to_string(), Act::Resolve(comment.map(str::to_string)))
            .await
    }

    /// Adds a note to the timeline of the incident `id` names.
    pub async fn note_incident(
        &self,
        id: &str,
        text: &str,
    ) -> Result<IncidentWritten, IncidentOpError> {
        self.write_incident(id.to_string(), Act::Note(text.to_string()))
            .await
    }

    /// Puts run `run_id`, made for the incident `id` names, and how it ended on its timeline.
    pub async fn record_action_run(
        &self,
        id: &str,
        run_id: &str,
        result: &str,
    ) -> Result<IncidentWritten, IncidentOpError> {
        let act = Act::Run {
            run_id: run_id.to_string(),
            result: result.to_string(),
        };
        self.write_incident(id.to_string(), act).await
    }

    async fn find_incident(&self, id: &str) -> Result<Incident, IncidentOpError> {
        let (path, rotation) = self.book_place();
        let id = id.to_string();
        tokio::task::spawn_blocking(move || {
            let book = Book::open(&path, rotation)?;
            book.find(&id).cloned().map_err(BookError::from)
        })
        .await
        .map_err(|e| IncidentOpError::Stopped(e.to_string()))?
        .map_err(IncidentOpError::from)
    }

    /// The silence an ack of `incident` makes first, when it is an active Alertmanager alert
    /// and `[alertmanager] url` is set.
    async fn silence_first(
        &self,
        incident: &Incident,
        comment: Option<&str>,
    ) -> Result<Option<String>, IncidentOpError> {
        if incident.source != Source::Alertmanager || !incident.state.is_active() {
            return Ok(None);
        }
        let source = match AlertmanagerSource::from_settings(&self.inner.alertmanager) {
            Ok(Some(source)) => source,
            Ok(None) => {
                tracing::warn!(incident = %incident.id,
                    "[alertmanager] url is empty: acknowledged here only, no silence is made");
                return Ok(None);
            }
            Err(e) => return Err(IncidentOpError::Silence(e.to_string())),
        };
        let labels = silence_labels(&incident.labels);
        let comment = comment.unwrap_or("acknowledged in fleetdeck");
        source
            .ack_as(&labels, &current_user(), comment)
            .await
            .map(Some)
            .map_err(|e| IncidentOpError::Silence(e.to_string()))
    }

    /// Writes `act` on a blocking thread, then audits it, tells the sinks and wakes the
    /// follower.
    async fn write_incident(
        &self,
        id: String,
        act: Act,
    ) -> Result<IncidentWritten, IncidentOpError> {
        let (path, rotation) = self.book_place();
        let what = act.clone();
        let (event, incident) = tokio::task::spawn_blocking(move || {
            let mut book = Book::open(&path, rotation)?;
            let who = current_user();
            let event: Event = match &what {
                Act::Ack(c) => book.ack(&id, &who, c.as_deref())?,
                Act::Resolve(c) => book.resolve(&id, &who, c.as_deref())?,
                Act::Note(t) => book.note(&id, &who, t)?,
                Act::Run { run_id, result } => {
                    book.record_action_run(&id, run_id, result, Some(&who))?
                }
            };
            let incident = book.get(&event.id).cloned().ok_or_else(|| {
                BookError::Invalid(format!(
                    "incident {} is not in the book after writing to it",
                    event.id
                ))
            })?;
            Ok::<_, BookError>((event, incident))
        })
        .await
        .map_err(|e| IncidentOpError::Stopped(e.to_string()))??;
        self.inner.recorder.notices().event(&event, &incident);
        let what = match act.text() {
            Some(text) => format!("{}: {text}", incident.title),
            None => incident.title.clone(),
        };
        self.inner.records.audit(&AuditRecord::incident(
            act.name(),
            &incident.id,
            &what,
            &incident.hosts,
            "ok",
        ));
        self.inner.incidents_wake.notify_one();
        Ok(IncidentWritten {
            incident,
            silence: None,
        })
    }

    fn book_place(&self) -> (std::path::PathBuf, crate::store::Rotation) {
        (
            self.inner.home.incidents_file(),
            crate::incident::book::rotation_of(&self.inner.store),
        )
    }

    /// The incidents as the session's follower last read the book.
    pub fn incidents(&self) -> Arc<super::incident_feed::IncidentsFrame> {
        self.inner.view.incidents()
    }
}
