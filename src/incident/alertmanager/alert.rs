//! An alert as Alertmanager's API v2 lists it (`GET /api/v2/alerts`), in a neutral shape of our
//! own, and the parser from the JSON answer. Unknown fields (receivers, updatedAt) are ignored;
//! a timestamp that does not parse is left out rather than failing the whole list.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What Alertmanager does with an alert right now (`status.state`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertState {
    /// Firing and notified.
    Active,
    /// Silenced or inhibited (see `silenced_by`, `inhibited_by`).
    Suppressed,
    /// Received, not yet through the pipeline.
    Unprocessed,
    /// A state this version does not know, kept as written.
    Other(String),
}

impl AlertState {
    fn from_wire(text: &str) -> AlertState {
        match text {
            "active" => AlertState::Active,
            "suppressed" => AlertState::Suppressed,
            "unprocessed" => AlertState::Unprocessed,
            other => AlertState::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            AlertState::Active => "active",
            AlertState::Suppressed => "suppressed",
            AlertState::Unprocessed => "unprocessed",
            AlertState::Other(text) => text,
        }
    }
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert from Alertmanager; `fingerprint` identifies it across polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmAlert {
    pub fingerprint: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: Option<OffsetDateTime>,
    /// When Alertmanager considers it over unless it is sent again; past means resolved.
    pub ends_at: Option<OffsetDateTime>,
    pub state: AlertState,
    pub silenced_by: Vec<String>,
    pub inhibited_by: Vec<String>,
    /// The Prometheus expression page that raised it; may be empty.
    pub generator_url: String,
}

impl AmAlert {
    /// `alertname`, or the fingerprint when an alert has none.
    pub fn name(&self) -> &str {
        self.labels
            .get("alertname")
            .map_or(self.fingerprint.as_str(), String::as_str)
    }

    /// A one-line title: `summary` annotation, else `alertname`.
    pub fn title(&self) -> &str {
        self.annotations
            .get("summary")
            .map(String::as_str)
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| self.name())
    }

    /// Whether its `endsAt` has passed at `now` (an ended alert is resolved).
    pub fn ended(&self, now: OffsetDateTime) -> bool {
        self.ends_at.is_some_and(|end| end <= now)
    }
}

#[derive(Deserialize)]
struct WireAlert {
    fingerprint: String,
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default, rename = "startsAt")]
    starts_at: Option<String>,
    #[serde(default, rename = "endsAt")]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
    #[serde(default)]
    status: Option<WireStatus>,
}

#[derive(Deserialize)]
struct WireStatus {
    #[serde(default)]
    state: String,
    #[serde(default, rename = "silencedBy")]
    silenced_by: Option<Vec<String>>,
    #[serde(default, rename = "inhibitedBy")]
    inhibited_by: Option<Vec<String>>,
}

/// Parses the body of `GET /api/v2/alerts`. The error says where the JSON went wrong and how
/// the body starts (an HTML login page or a proxy's error shows as such).
pub fn parse_alerts(body: &[u8]) -> Result<Vec<AmAlert>, String> {
    let wire: Vec<WireAlert> = serde_json::from_slice(body).map_err(|e| {
        format!(
            "not an Alertmanager alert list ({e}); the answer starts with {}",
            body_start(body)
        )
    })?;
    Ok(wire.into_iter().map(from_wire).collect())
}

fn from_wire(w: WireAlert) -> AmAlert {
    let status = w.status.unwrap_or(WireStatus {
        state: String::new(),
        silenced_by: None,
        inhibited_by: None,
    });
    AmAlert {
        fingerprint: w.fingerprint,
        labels: w.labels,
        annotations: w.annotations,
        starts_at: w.starts_at.as_deref().and_then(timestamp),
        ends_at: w.ends_at.as_deref().and_then(timestamp),
        state: AlertState::from_wire(&status.state),
        silenced_by: status.silenced_by.unwrap_or_default(),
        inhibited_by: status.inhibited_by.unwrap_or_default(),
        generator_url: w.generator_url.unwrap_or_default(),
    }
}

/// An RFC 3339 time; Go's zero time (`0001-01-01T00:00:00Z`) means "not set".
pub(crate) fn timestamp(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .filter(|t| t.year() > 1)
}

/// The first bytes of a body, quoted, with control characters escaped: enough to tell HTML,
/// an empty answer or a truncated list apart in an error message.
pub(crate) fn body_start(body: &[u8]) -> String {
    const SHOWN: usize = 80;
    if body.is_empty() {
        return "nothing (empty body)".to_string();
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(SHOWN * 4)]);
    let mut shown: String = text.chars().take(SHOWN).collect();
    if text.chars().count() > SHOWN || body.len() > SHOWN * 4 {
        shown.push('…');
    }
    format!("{shown:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"[{"annotations":{"summary":"Disk full on web01"},
        "endsAt":"2026-12-07T23:00:00.000Z","fingerprint":"0123abcd","receivers":[{"name":"null"}],
        "startsAt":"2026-12-07T22:00:00.123456789Z",
        "status":{"inhibitedBy":[],"silencedBy":["s1"],"state":"suppressed"},
        "updatedAt":"2026-12-07T22:00:00Z","generatorURL":"http://prom/graph",
        "labels":{"alertname":"DiskFull","instance":"web01:9100"}}]"#;

    #[test]
    fn an_alert_is_read() {
        let alerts = parse_alerts(ONE.as_bytes());
        let Ok(alerts) = alerts else {
            panic!("{alerts:?}")
        };
        assert_eq!(alerts.len(), 1);
        let a = &alerts[0];
        assert_eq!(a.fingerprint, "0123abcd");
        assert_eq!(a.name(), "DiskFull");
        assert_eq!(a.title(), "Disk full on web01");
        assert_eq!(a.state, AlertState::Suppressed);
        assert_eq!(a.silenced_by, ["s1"]);
        assert_eq!(a.generator_url, "http://prom/graph");
        assert_eq!(a.starts_at.map(|t| t.nanosecond()), Some(123_456_789));
        let end = timestamp("2026-12-07T23:00:00Z");
        assert!(a.ended(end.unwrap_or(OffsetDateTime::UNIX_EPOCH)));
        assert!(!a.ended(timestamp("2026-12-07T22:59:59Z").unwrap_or(OffsetDateTime::UNIX_EPOCH)));
    }

    #[test]
    fn garbage_says_what_it_looks_like() {
        for (body, hint) in [
            (
                &b"<html><body>Login</body></html>"[..],
                "\"<html><body>Login",
            ),
            (b"", "nothing (empty body)"),
            (b"{\"status\":\"success\"}", "{\\\"status\\\""),
            (b"[{\"labels\":{}}]", "missing field `fingerprint`"),
        ] {
            let Err(err) = parse_alerts(body) else {
                panic!("{body:?} parsed")
            };
            assert!(err.starts_with("not an Alertmanager alert list"), "{err}");
            assert!(err.contains(hint), "{err}");
        }
    }

    #[test]
    fn zero_and_bad_times_are_unset() {
        assert_eq!(timestamp("0001-01-01T00:00:00Z"), None);
        assert_eq!(timestamp("yesterday"), None);
    }
}
