//! Incident events told to people: the book's opened, reopened, acknowledged and resolved
//! events become notices for the `[notify]` sinks (Slack, webhook). Whichever process writes
//! the event sends the notice, so each is sent once however many front ends run.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{Home, Settings};
use crate::incident::notify::{Notice, NoticeEvent, Notifier};
use crate::incident::{Event, Incident, What};

/// How long a command that ends waits for its notices to go out.
pub const FLUSH_GRACE: Duration = Duration::from_secs(5);

/// The notice `event` of `incident` is worth: opened and reopened say "opened", acked,
/// resolved; the rest (seen, notes, analyses, runs) tell nobody.
pub fn notice(event: &Event, incident: &Incident) -> Option<Notice> {
    let (kind, who, comment) = match &event.what {
        What::Opened { .. } | What::Reopened { .. } => (NoticeEvent::Opened, None, None),
        What::Acked { who, comment } => (NoticeEvent::Acked, Some(who.clone()), comment.clone()),
        What::Resolved { who, comment, .. } => {
            (NoticeEvent::Resolved, who.clone(), comment.clone())
        }
        _ => return None,
    };
    let mut n = Notice::new(
        kind,
        incident.id.clone(),
        incident.title.clone(),
        incident.severity.as_str(),
        incident.source.as_str(),
    );
    if let Ok(ts) = OffsetDateTime::parse(&event.ts, &Rfc3339) {
        n.ts = ts;
    }
    n.hosts = incident.hosts.clone();
    n.labels = incident.labels.clone();
    n.runbook_url = incident.annotations.get("runbook_url").cloned();
    n.who = who;
    n.comment = comment;
    Some(n)
}

/// The `[notify]` sinks of one process, shared by whatever writes the book; flushed once
/// when the process is done. Cheap to clone.
#[derive(Clone, Default)]
pub struct Notices {
    notifier: Arc<Mutex<Option<Notifier>>>,
}

impl Notices {
    /// The sinks `[notify]` names (none: notices go nowhere). A sink that cannot be set up
    /// (its URL's variable unset, its file unreadable) is logged and left out. Inside the
    /// tokio runtime.
    pub fn start(home: &Home, settings: &Settings) -> Notices {
        let notifier = match Notifier::from_settings(&settings.notify, &home.config_dir) {
            Ok(n) if !n.is_empty() => Some(n),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "[notify] cannot be used; no notifications");
                None
            }
        };
        Notices {
            notifier: Arc::new(Mutex::new(notifier)),
        }
    }

    /// Sends what `event` is worth (never waits).
    pub fn event(&self, event: &Event, incident: &Incident) {
        let guard = self.notifier.lock().unwrap_or_else(PoisonError::into_inner);
        if let (Some(notifier), Some(n)) = (guard.as_ref(), notice(event, incident)) {
            notifier.notify(&n);
        }
    }

    /// Each sink's delivery record so far (none without sinks), for front ends to show.
    pub fn status(&self) -> Vec<crate::incident::notify::SinkStatus> {
        let guard = self.notifier.lock().unwrap_or_else(PoisonError::into_inner);
        guard.as_ref().map(Notifier::status).unwrap_or_default()
    }

    /// Delivers what is queued, waiting at most `grace`; later events go nowhere.
    pub async fn flush(&self, grace: Duration) {
        let notifier = self
            .notifier
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(notifier) = notifier {
            notifier.shutdown(grace).await;
        }
    }
}
