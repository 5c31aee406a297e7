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
#[serde(try_from = "Wire")]
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

/// A line as read: every field of every event optional, so a line is parsed in one pass
/// (serde's flattened, internally tagged enum would buffer each line first), then checked
/// for the fields its `event` needs.
#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    v: Option<u32>,
    ts: String,
    id: String,
    event: String,
    source: Option<Source>,
    fingerprint: Option<String>,
    title: Option<String>,
    severity: Option<Severity>,
    hosts: Option<Vec<String>>,
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
    at: Option<String>,
    refire: Option<bool>,
    who: Option<String>,
    comment: Option<String>,
    text: Option<String>,
    model: Option<String>,
    action: Option<String>,
    run_id: Option<String>,
    result: Option<String>,
    incident: Option<Box<Incident>>,
}

impl TryFrom<Wire> for Event {
    type Error = String;

    fn try_from(w: Wire) -> Result<Event, String> {
        let event = w.event.clone();
        let need = |field: Option<String>, name: &str| {
            field.ok_or_else(|| format!("`{event}` line without `{name}`"))
        };
        let what = match w.event.as_str() {
            "opened" => What::Opened {
                source: w
                    .source
                    .ok_or_else(|| format!("`{event}` line without `source`"))?,
                fingerprint: need(w.fingerprint, "fingerprint")?,
                title: need(w.title, "title")?,
                severity: w
                    .severity
                    .ok_or_else(|| format!("`{event}` line without `severity`"))?,
                hosts: w.hosts.unwrap_or_default(),
                labels: w.labels.unwrap_or_default(),
                annotations: w.annotations.unwrap_or_default(),
                at: need(w.at, "at")?,
            },
            "seen" => What::Seen {
                at: need(w.at, "at")?,
                refire: w.refire.unwrap_or(false),
            },
            "acked" => What::Acked {
                who: need(w.who, "who")?,
                comment: w.comment,
            },
            "note" => What::Note {
                who: need(w.who, "who")?,
                text: need(w.text, "text")?,
            },
            "analysis" => What::Analysis {
                who: w.who,
                model: w.model,
                text: need(w.text, "text")?,
                action: w.action,
            },
            "action_run" => What::ActionRun {
                who: w.who,
                run_id: need(w.run_id, "run_id")?,
                result: need(w.result, "result")?,
            },
            "resolved" => What::Resolved {
                who: w.who,
                comment: w.comment,
                at: w.at,
            },
            "reopened" => What::Reopened {
                at: need(w.at, "at")?,
                title: need(w.title, "title")?,
                severity: w
                    .severity
                    .ok_or_else(|| format!("`{event}` line without `severity`"))?,
                hosts: w.hosts.unwrap_or_default(),
            },
            "carried" => What::Carried {
                incident: w
                    .incident
                    .ok_or_else(|| format!("`{event}` line without `incident`"))?,
            },
            other => return Err(format!("unknown event `{other}`")),
        };
        Ok(Event {
            v: w.v,
            ts: w.ts,
            id: w.id,
            what,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_reads_back_as_written() {
        let events = [
            What::Seen {
                at: "a".into(),
                refire: true,
            },
            What::Acked {
                who: "w".into(),
                comment: None,
            },
            What::Note {
                who: "w".into(),
                text: "t".into(),
            },
            What::Analysis {
                who: None,
                model: Some("m".into()),
                text: "t".into(),
                action: Some("restart".into()),
            },
            What::ActionRun {
                who: Some("w".into()),
                run_id: "r".into(),
                result: "ok".into(),
            },
            What::Resolved {
                who: None,
                comment: None,
                at: Some("a".into()),
            },
            What::Reopened {
                at: "a".into(),
                title: "t".into(),
                severity: Severity::Info,
                hosts: vec!["h".into()],
            },
        ];
        for what in events {
            let e = Event {
                v: None,
                ts: "2026-12-07T10:00:00.000Z".into(),
                id: "abc".into(),
                what,
            };
            let text = serde_json::to_string(&e).unwrap();
            let back: Event = serde_json::from_str(&text).unwrap();
            assert_eq!(back, e, "{text}");
        }
        let err = serde_json::from_str::<Event>(r#"{"ts":"x","id":"a","event":"note","who":"w"}"#)
            .unwrap_err();
        assert!(
            err.to_string().contains("`note` line without `text`"),
            "{err}"
        );
        let err =
            serde_json::from_str::<Event>(r#"{"ts":"x","id":"a","event":"bogus"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown event `bogus`"), "{err}");
    }
}
