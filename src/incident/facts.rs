//! What the rule-based parts (runbooks, analysis) read of an incident: a small neutral shape
//! the book's incident is mapped into, so these modules do not depend on how the book keeps
//! incidents. Nothing here does I/O.

use std::collections::BTreeMap;

pub use super::model::{Severity, Source};

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
