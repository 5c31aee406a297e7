//! What a person does to an incident through the session (never through a `FleetReader`):
//! acknowledge (an Alertmanager incident's silence made first; when it cannot be made nothing
//! is written), resolve, note, record a run made for it, and (incident_analysis.rs) the
//! analysis they asked for. The book's file I/O runs on a
//! blocking thread; each write is audited, told to the `[notify]` sinks and wakes the
//! session's book follower so readers see it at once.

use std::sync::Arc;

use super::FleetSession;
use crate::config::current_user;
use crate::engine::alertmanager_feed::{AckSilence, ack_comment, silence_for_ack};
use crate::engine::audit::AuditRecord;
use crate::incident::{BookError, Incident};

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
    /// The `[analysis]` endpoint was off or did not give an answer: nothing was written.
    #[error("analysis: {0}; the runbook's hint stands")]
    Analysis(String),
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
pub(super) enum Act {
    Ack(Option<String>),
    Resolve(Option<String>),
    Note(String),
    Run {
        run_id: String,
        result: String,
    },
    /// An answer of the `[analysis]` endpoint they asked for.
    Analysis(crate::incident::Analysis),
}

impl Act {
    fn name(&self) -> &'static str {
        match self {
            Act::Ack(_) => "ack",
            Act::Resolve(_) => "resolve",
            Act::Note(_) => "note",
            Act::Run { .. } => "action-run",
            Act::Analysis(_) => "analysis",
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Act::Ack(c) | Act::Resolve(c) => c.as_deref(),
            Act::Note(t) => Some(t),
            Act::Run { result, .. } => Some(result),
            // The answer itself stays in the book; the audit says who asked which model.
            Act::Analysis(a) => a.model.as_deref(),
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
        let silence = silence_for_ack(
            &incident,
            &self.inner.alertmanager,
            &current_user(),
            comment,
        )
        .await
        .map_err(IncidentOpError::Silence)?;
        if silence == AckSilence::NoUrl {
            tracing::warn!(incident = %incident.id,
                "[alertmanager] url is empty: acknowledged here only, no silence is made");
        }
        let comment = ack_comment(&silence, comment);
        let mut written = self.write_incident(incident.id, Act::Ack(comment)).await?;
        if let AckSilence::Made(id) = silence {
            written.silence = Some(id);
        }
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

    pub(super) async fn find_incident(&self, id: &str) -> Result<Incident, IncidentOpError> {
        let recorder = self.inner.recorder.clone();
        let id = id.to_string();
        tokio::task::spawn_blocking(move || recorder.find(&id))
            .await
            .map_err(|e| IncidentOpError::Stopped(e.to_string()))?
            .map_err(IncidentOpError::from)
    }

    /// Writes `act` on a blocking thread, then audits it, tells the sinks and wakes the
    /// follower.
    pub(super) async fn write_incident(
        &self,
        id: String,
        act: Act,
    ) -> Result<IncidentWritten, IncidentOpError> {
        let recorder = self.inner.recorder.clone();
        let what = act.clone();
        // The recorder's book: kept open, it catches up before each write (no reload), and
        // tells the `[notify]` sinks what it wrote.
        let incident = tokio::task::spawn_blocking(move || {
            let who = current_user();
            let event = recorder.with_book(|book| match &what {
                Act::Ack(c) => book.ack(&id, &who, c.as_deref()),
                Act::Resolve(c) => book.resolve(&id, &who, c.as_deref()),
                Act::Note(t) => book.note(&id, &who, t),
                Act::Run { run_id, result } => {
                    book.record_action_run(&id, run_id, result, Some(&who))
                }
                Act::Analysis(analysis) => book.record_analysis(&id, analysis),
            })?;
            let incident = recorder.find(&event.id)?;
            Ok::<_, BookError>(incident)
        })
        .await
        .map_err(|e| IncidentOpError::Stopped(e.to_string()))??;
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
        // The recorder woke the book follower when it wrote.
        Ok(IncidentWritten {
            incident,
            silence: None,
        })
    }

    /// How the `[notify]` sinks of this session are doing (empty without sinks): a failing
    /// sink is shown, not only logged.
    pub fn notify_status(&self) -> Vec<crate::incident::notify::SinkStatus> {
        self.inner.recorder.notices().status()
    }

    /// The incidents as the session's follower last read the book.
    pub fn incidents(&self) -> Arc<super::incident_feed::IncidentsFrame> {
        self.inner.view.incidents()
    }
}
