//! What an incident is: its source, severity, state, the facts sources report about it
//! (`Observation`), and the timeline of what happened to it. Plain data; the fold (fold.rs)
//! builds incidents from the book's events, the book (book.rs) reads and writes them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an incident came from. With the fingerprint, it is the dedup key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A `fleetdeck agent` watcher (fingerprint: `host/watcher`).
    Agent,
    /// Prometheus Alertmanager (fingerprint: Alertmanager's own).
    Alertmanager,
    /// A `[[thresholds]]` rule on metric samples.
    Threshold,
    /// A `[[checks]]` recurring validation.
    Check,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::Agent,
        Source::Alertmanager,
        Source::Threshold,
        Source::Check,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Agent => "agent",
            Source::Alertmanager => "alertmanager",
            Source::Threshold => "threshold",
            Source::Check => "check",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad it is. Ordered: `Info < Warning < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                let hint = crate::diag::did_you_mean(s, Severity::ALL.map(Severity::as_str))
                    .map(|c| format!(": did you mean `{c}`?"))
                    .unwrap_or_default();
                format!("unknown severity `{s}`{hint} (expected critical, warning or info)")
            })
    }
}

impl FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Source::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                let hint = crate::diag::did_you_mean(s, Source::ALL.map(Source::as_str))
                    .map(|c| format!(": did you mean `{c}`?"))
                    .unwrap_or_default();
                format!(
                    "unknown source `{s}`{hint} (expected agent, alertmanager, threshold or check)"
                )
            })
    }
}

/// Where an incident is in its life (PagerDuty's triggered → acknowledged → resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Open,
    Acked,
    Resolved,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Acked => "acked",
            State::Resolved => "resolved",
        }
    }

    /// Open or acknowledged: still someone's problem.
    pub fn is_active(self) -> bool {
        self != State::Resolved
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Source and fingerprint: one problem. At most one incident per key is active at a time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DedupKey {
    pub source: Source,
    pub fingerprint: String,
}

impl fmt::Display for DedupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.fingerprint)
    }
}

/// What a source reports about one problem, as often as it likes: the book turns it into
/// `opened`, `seen`, `resolved` or `reopened` lines, or into nothing when it tells nothing new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub source: Source,
    /// Identifies the problem within its source (agent: `host/watcher`).
    pub fingerprint: String,
    pub title: String,
    pub severity: Severity,
    pub hosts: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// True: the problem is there; false: the source says it cleared.
    pub firing: bool,
    /// When the source says this happened (RFC 3339). Observations older than what the book
    /// already has from the source (a redelivered alert) change nothing.
    pub ts: String,
}

impl Observation {
    pub fn key(&self) -> DedupKey {
        DedupKey {
            source: self.source,
            fingerprint: self.fingerprint.clone(),
        }
    }
}

/// One thing that happened to an incident, for its timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When it was written to the book (RFC 3339, UTC, milliseconds).
    pub ts: String,
    /// `opened`, `seen`, `acked`, `note`, `analysis`, `action_run`, `resolved`, `reopened`.
    pub event: String,
    /// Who did it; `None` for what a source reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    /// A comment, note, analysis or run result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The run of an `action_run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// An incident as the fold of its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub source: Source,
    pub fingerprint: String,
    pub title: String,
    pub severity: Severity,
    pub hosts: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    pub state: State,
    /// How many times it fired: the opening, each re-fire a source reported while it was
    /// active, each reopening.
    pub count: u64,
    pub first_seen: String,
    /// The last time a source reported it firing (kept current to within
    /// `decide::SEEN_REFRESH` while it fires on).
    pub last_seen: String,
    /// The newest source time (`Observation::ts`) taken into the book: an observation older
    /// than this is a redelivery and changes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ts: Option<String>,
    /// When it was last resolved (book time), while resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
    /// Timeline entries left out to keep it bounded (the oldest `seen` ones first).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeline_dropped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Incident {
    pub fn key(&self) -> DedupKey {
        DedupKey {
            source: self.source,
            fingerprint: self.fingerprint.clone(),
        }
    }

    /// What the runbooks and the analysis read of it.
    pub fn facts(&self) -> super::facts::IncidentFacts {
        super::facts::IncidentFacts {
            source: self.source,
            title: self.title.clone(),
            severity: self.severity,
            labels: self.labels.clone(),
            annotations: self.annotations.clone(),
            hosts: self.hosts.clone(),
        }
    }
}
