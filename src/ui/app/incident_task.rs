//! The console's writes to incidents, performed through the session off the event loop (the
//! book's file I/O runs on blocking threads, Alertmanager and the analysis endpoint are
//! awaited in tasks); each answers with `Msg::IncidentWritten`.

use tokio::sync::mpsc;

use super::msg::{IncidentWrite, Msg};
use crate::engine::{AnalysisAsk, FleetSession, RunId};

/// Performs `Effect::WriteIncident` through the session (its book I/O is off the runtime
/// threads); the answer comes back on `tx` as `Msg::IncidentWritten`.
pub(crate) fn spawn_write(
    session: &FleetSession,
    write: IncidentWrite,
    tx: mpsc::UnboundedSender<Msg>,
) {
    use super::popup::PromptAct;
    let session = session.clone();
    tokio::spawn(async move {
        let comment = (!write.text.is_empty()).then_some(write.text.as_str());
        let (done, result) = match write.act {
            PromptAct::Ack => (
                "acknowledged",
                session.ack_incident(&write.id, comment).await,
            ),
            PromptAct::Resolve => (
                "resolved",
                session.resolve_incident(&write.id, comment).await,
            ),
            PromptAct::Note => ("noted", session.note_incident(&write.id, &write.text).await),
        };
        let answer = match result {
            Ok(w) => {
                let silence = w
                    .silence
                    .map(|s| format!(" (Alertmanager silence {s})"))
                    .unwrap_or_default();
                Ok(format!("{done} incident {}{silence}", w.incident.id))
            }
            Err(e) => Err(format!("incident {}: {e}", write.id)),
        };
        // The console may be gone (quitting): nobody needs the answer then.
        let _ = tx.send(Msg::IncidentWritten(answer));
    });
}

/// Performs `Effect::RecordIncidentRun`: the runbook's run and how it ended, on each of the
/// incidents it was a fix for.
pub(crate) fn spawn_record_run(
    session: &FleetSession,
    incidents: Vec<String>,
    run: RunId,
    result: String,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let session = session.clone();
    tokio::spawn(async move {
        let mut failed = Vec::new();
        for id in &incidents {
            if let Err(e) = session.record_action_run(id, &run, &result).await {
                failed.push(format!("incident {id}: {e}"));
            }
        }
        let answer = if failed.is_empty() {
            Ok(format!(
                "run {run} ({result}) written on incident{} {}",
                if incidents.len() == 1 { "" } else { "s" },
                incidents.join(", ")
            ))
        } else {
            Err(format!("run {run} not written on {}", failed.join("; ")))
        };
        let _ = tx.send(Msg::IncidentWritten(answer));
    });
}

/// Performs `Effect::AnalyseIncident`: the endpoint asked, its answer written on the timeline.
pub(crate) fn spawn_analyse(
    session: &FleetSession,
    ask: AnalysisAsk,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let session = session.clone();
    tokio::spawn(async move {
        let id = ask.id.clone();
        let answer = match session.analyse_incident(ask).await {
            Ok(w) => Ok(format!(
                "analysis of incident {} added to its timeline (a suggestion: nothing was run)",
                w.incident.id
            )),
            Err(e) => Err(format!("incident {id}: {e}")),
        };
        let _ = tx.send(Msg::IncidentWritten(answer));
    });
}
