//! What a notification says, in a shape of its own: the caller (the incident book's owner)
//! fills a [`Notice`]; the sinks turn it into Slack blocks or the webhook's JSON.

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

use crate::inventory::nodeset;

/// What happened to the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeEvent {
    Opened,
    Acked,
    Resolved,
}

impl NoticeEvent {
    /// The word in the webhook's `event` field.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeEvent::Opened => "opened",
            NoticeEvent::Acked => "acked",
            NoticeEvent::Resolved => "resolved",
        }
    }

    /// The word people read.
    pub fn verb(self) -> &'static str {
        match self {
            NoticeEvent::Opened => "Opened",
            NoticeEvent::Acked => "Acknowledged",
            NoticeEvent::Resolved => "Resolved",
        }
    }
}

/// One incident event to tell people about. Text fields come from alerts and are escaped by
/// each sink as its format needs; none of them may hold a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub event: NoticeEvent,
    /// When it happened.
    pub ts: OffsetDateTime,
    pub incident_id: String,
    pub title: String,
    /// `critical`, `warning`, `info`, or another word shown as it is.
    pub severity: String,
    /// `agent`, `alertmanager`, `threshold`, `check`, …
    pub source: String,
    /// Inventory host names; folded into a node set for display (`web[01-03]`).
    pub hosts: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// The alert's `runbook_url` annotation; linked only when it is http(s).
    pub runbook_url: Option<String>,
    /// The runbook rule's hint.
    pub hint: Option<String>,
    /// Who acknowledged or resolved it (`user@machine`).
    pub who: Option<String>,
    pub comment: Option<String>,
}

impl Notice {
    /// A notice with the required fields; the rest are empty and set by the caller.
    pub fn new(
        event: NoticeEvent,
        incident_id: impl Into<String>,
        title: impl Into<String>,
        severity: impl Into<String>,
        source: impl Into<String>,
    ) -> Notice {
        Notice {
            event,
            ts: OffsetDateTime::now_utc(),
            incident_id: incident_id.into(),
            title: title.into(),
            severity: severity.into(),
            source: source.into(),
            hosts: Vec::new(),
            labels: BTreeMap::new(),
            runbook_url: None,
            hint: None,
            who: None,
            comment: None,
        }
    }

    /// The hosts as one node set (`web[01-03,07]`), empty when there are none.
    pub fn hosts_folded(&self) -> String {
        nodeset::fold(self.hosts.iter().map(String::as_str))
    }
}

/// What a sink sends: a notice, or the count of notices the rate limit dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Notice(Box<Notice>),
    /// Notices dropped by the rate limit since the last message; sent once there is room.
    Dropped {
        count: u64,
        ts: OffsetDateTime,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_fold_into_a_node_set() {
        let mut n = Notice::new(NoticeEvent::Opened, "01J", "Disk full", "critical", "agent");
        n.hosts = ["web03", "web01", "web02", "db1"]
            .map(String::from)
            .to_vec();
        assert_eq!(n.hosts_folded(), "db1,web[01-03]");
    }
}
