//! What the rule-based parts (runbooks, analysis) read of an incident: a small neutral shape
//! the book's incident is mapped into, so these modules do not depend on how the book keeps
//! incidents. Nothing here does I/O.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How bad an incident is (the three words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Critical, Severity::Warning, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
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

/// Where an incident came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// An agent's alert journal.
    Agent,
    /// Prometheus Alertmanager.
    Alertmanager,
    /// A `[[thresholds]]` rule on metric samples.
    Threshold,
    /// A `[[checks]]` validation.
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

/// An incident as the runbooks and the analysis see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    pub source: Source,
    pub title: String,
    pub severity: Severity,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Inventory host names, in the book's order.
    pub hosts: Vec<String>,
}

impl IncidentFacts {
    /// The alert's own runbook link (`annotations.runbook_url`), shown whether or not a
    /// runbooks.toml rule matches.
    pub fn runbook_url(&self) -> Option<&str> {
        self.annotations
            .get("runbook_url")
            .map(|u| u.trim())
            .filter(|u| !u.is_empty())
    }
}
