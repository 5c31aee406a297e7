//! One line of incidents.jsonl: an event that happened to one incident. The book is the list
//! of these, oldest first; an incident is their fold (fold.rs).
//!
//! A line: `{"v":1,"ts":…,"id":…,"event":"opened",…fields of that event}`. `ts` is when the
//! line was written (the book's clock); `at`, where present, is the source's own time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{Incident, Severity, Source};

/// The schema version of incidents.jsonl lines.
pub const BOOK_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Read back from the line (the writer adds it); never serialized from here.
    #[serde(default, skip_serializing)]
    pub v: Option<u32>,
    pub ts: String,
    pub id: String,
    #[serde(flatten)]
    pub what: What,
}

/// What happened. `who` is `user@machine` for what a person did, absent for a source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum What {
    /// A source reported a problem no active incident covers.
    Opened {
        source: Source,
        fingerprint: String,
        title: String,
        severity: Severity,
        #[serde(default)]
        hosts: Vec<String>,
        #[serde(default)]
        labels: BTreeMap<String, String>,
        #[serde(default)]
        annotations: BTreeMap<String, String>,
        at: String,
    },
    /// Still firing (`refire: false`, written at most once per `SEEN_REFRESH`) or fired again
    /// while active (`refire: true`: the source reported a newer firing).
    Seen {
        at: String,
        #[serde(default)]
        refire: bool,
    },
    Acked {
        who: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    Note {
        who: String,
        text: String,
    },
    /// A suggestion (from a model or the rule-based hint); never runs anything.
    Analysis {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        who: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<String>,
    },
    /// A run started for the incident (usually its runbook's action) and how it ended.
    ActionRun {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        who: Option<String>,
        run_id: String,
        result: String,
    },
    /// By a person (`who`) or by its source (`at`: when the source says it cleared).
    Resolved {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        who: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
    /// A resolved incident fired again soon after (`decide::REOPEN_WINDOW`): the same
    /// incident, active again, with what the source says now.
    Reopened {
        at: String,
        title: String,
        severity: Severity,
        #[serde(default)]
        hosts: Vec<String>,
    },
    /// The incident as it stood when the book rotated: written at the top of the new file so
    /// that no active incident is lost when older files are deleted.
    Carried {
        incident: Box<Incident>,
    },
}

impl What {
    /// The `event` name on the line.
    pub fn name(&self) -> &'static str {
        match self {
            What::Opened { .. } => "opened",
            What::Seen { .. } => "seen",
            What::Acked { .. } => "acked",
            What::Note { .. } => "note",
            What::Analysis { .. } => "analysis",
            What::ActionRun { .. } => "action_run",
            What::Resolved { .. } => "resolved",
            What::Reopened { .. } => "reopened",
            What::Carried { .. } => "carried",
        }
    }
}
