//! Silences: what an acknowledgement creates (`POST /api/v2/silences`, karma-style: equality
//! matchers for every label of the alert, a comment, who and for how long) and what
//! `GET /api/v2/silences` lists.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::alert::{body_start, timestamp};

/// The comment sent when the person acknowledging gave none (Alertmanager requires one).
pub const DEFAULT_COMMENT: &str = "acknowledged in fleetdeck";

/// One label matcher of a silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matcher {
    pub name: String,
    pub value: String,
    #[serde(rename = "isRegex")]
    pub is_regex: bool,
    /// `false` means "not equal"; absent (Alertmanager before 0.22) means equal.
    #[serde(rename = "isEqual", default = "equal")]
    pub is_equal: bool,
}

fn equal() -> bool {
    true
}

/// The body of `POST /api/v2/silences`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewSilence {
    pub matchers: Vec<Matcher>,
    #[serde(rename = "startsAt")]
    pub starts_at: String,
    #[serde(rename = "endsAt")]
    pub ends_at: String,
    #[serde(rename = "createdBy")]
    pub created_by: String,
    pub comment: String,
}

impl NewSilence {
    /// A silence of exactly this alert: `name = value` for each of its labels (an empty value
    /// is left out: it would match alerts without the label), from `now` for `duration`.
    pub fn for_alert(
        labels: &BTreeMap<String, String>,
        created_by: &str,
        comment: &str,
        now: OffsetDateTime,
        duration: Duration,
    ) -> NewSilence {
        let matchers = labels
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| Matcher {
                name: name.clone(),
                value: value.clone(),
                is_regex: false,
                is_equal: true,
            })
            .collect();
        let comment = comment.trim();
        NewSilence {
            matchers,
            starts_at: rfc3339(now),
            ends_at: rfc3339(now + duration),
            created_by: created_by.to_string(),
            comment: if comment.is_empty() {
                DEFAULT_COMMENT.to_string()
            } else {
                comment.to_string()
            },
        }
    }
}

/// A silence as Alertmanager lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    pub id: String,
    /// `active`, `pending` or `expired`.
    pub state: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
    pub created_by: String,
    pub comment: String,
}

#[derive(Deserialize)]
struct WireSilence {
    id: String,
    #[serde(default)]
    status: Option<WireState>,
    #[serde(default)]
    matchers: Vec<Matcher>,
    #[serde(default, rename = "startsAt")]
    starts_at: Option<String>,
    #[serde(default, rename = "endsAt")]
    ends_at: Option<String>,
    #[serde(default, rename = "createdBy")]
    created_by: String,
    #[serde(default)]
    comment: String,
}

#[derive(Deserialize)]
struct WireState {
    #[serde(default)]
    state: String,
}

#[derive(Deserialize)]
struct Created {
    #[serde(rename = "silenceID")]
    silence_id: String,
}

/// Parses the body of `GET /api/v2/silences`.
pub fn parse_silences(body: &[u8]) -> Result<Vec<Silence>, String> {
    let wire: Vec<WireSilence> = serde_json::from_slice(body).map_err(|e| {
        format!(
            "not an Alertmanager silence list ({e}); the answer starts with {}",
            body_start(body)
        )
    })?;
    Ok(wire
        .into_iter()
        .map(|w| Silence {
            id: w.id,
            state: w.status.map(|s| s.state).unwrap_or_default(),
            matchers: w.matchers,
            starts_at: w.starts_at.as_deref().and_then(timestamp),
            ends_at: w.ends_at.as_deref().and_then(timestamp),
            created_by: w.created_by,
            comment: w.comment,
        })
        .collect())
}

/// Parses the answer to `POST /api/v2/silences`: the new silence's id.
pub fn parse_created(body: &[u8]) -> Result<String, String> {
    serde_json::from_slice::<Created>(body)
        .map(|c| c.silence_id)
        .map_err(|e| {
            format!(
                "not an answer to a new silence ({e}); the answer starts with {}",
                body_start(body)
            )
        })
}

fn rfc3339(t: OffsetDateTime) -> String {
    // Formatting a UTC time as RFC 3339 fails only for years outside 0..=9999.
    t.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn an_ack_silences_exactly_the_alert() {
        let labels = BTreeMap::from([
            ("alertname".to_string(), "DiskFull".to_string()),
            ("instance".to_string(), "web01:9100".to_string()),
            ("empty".to_string(), String::new()),
        ]);
        let s = NewSilence::for_alert(
            &labels,
            "ann@console",
            "  ",
            datetime!(2026-12-07 22:00 UTC),
            Duration::from_secs(7200),
        );
        let Ok(json) = serde_json::to_value(&s) else {
            panic!("silence not serialisable")
        };
        assert_eq!(
            json,
            serde_json::json!({
                "matchers": [
                    {"name": "alertname", "value": "DiskFull", "isRegex": false, "isEqual": true},
                    {"name": "instance", "value": "web01:9100", "isRegex": false, "isEqual": true}
                ],
                "startsAt": "2026-12-07T22:00:00Z",
                "endsAt": "2026-12-08T00:00:00Z",
                "createdBy": "ann@console",
                "comment": DEFAULT_COMMENT
            })
        );
    }

    #[test]
    fn listed_silences_and_new_ids_are_read() {
        let body = br#"[{"id":"abc","status":{"state":"active"},"updatedAt":"2026-12-07T22:00:00Z",
            "matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":"2026-12-07T22:00:00Z",
            "endsAt":"2026-12-08T00:00:00Z","createdBy":"ann@console","comment":"looking"}]"#;
        let Ok(list) = parse_silences(body) else {
            panic!("silences not read")
        };
        assert_eq!(list[0].id, "abc");
        assert_eq!(list[0].state, "active");
        assert!(list[0].matchers[0].is_equal);
        assert_eq!(
            parse_created(br#"{"silenceID":"x1"}"#),
            Ok("x1".to_string())
        );
        assert!(parse_created(b"<html>").is_err());
    }
}
