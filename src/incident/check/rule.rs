//! One `[[checks]]` entry of config.toml: its file form and its validation. Every problem is
//! a serde error, so config.toml's loader reports it at file:line:column like any other bad
//! setting (and `fleetdeck check` exits 2). Whether an `action` exists in the catalog and an
//! `@group` in hosts.toml is checked by `fleetdeck check` (commands/check/checks.rs), which
//! reads those files.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::incident::config_rules::{plain_selector, unique_names};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::url;
use crate::config::units::HumanDuration;
use crate::incident::facts::Severity;

/// The shortest `every`: a check is a health check, not a load test.
pub const MIN_EVERY: Duration = Duration::from_secs(1);
/// An HTTP check's `timeout` when it names none (capped at its `every`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A validated check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CheckFile", into = "CheckFile")]
pub struct Check {
    /// Unique among the checks: the incidents' fingerprints start with it.
    pub name: String,
    /// Time from the start of one round to the start of the next (a slow round delays the
    /// next one, it never overlaps it).
    pub every: Duration,
    /// The hosts it probes: a selector (parsed; no metric terms), resolved on the inventory
    /// each time the runner starts.
    pub target: String,
    pub severity: Severity,
    pub probe: Probe,
}

/// What one round does on each host.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    Http(HttpProbe),
    Action(ActionProbe),
}

impl Probe {
    /// `http` or `action`: the incidents' `kind` label.
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Http(_) => "http",
            Probe::Action(_) => "action",
        }
    }
}

/// `http = { url, status, body_contains, timeout }`: a GET per host; it passes when the status
/// is `status` and (if given) the body contains `body_contains`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpProbe {
    /// With `{name}`/`{address}` (see `url::for_host`); http or https.
    pub url: String,
    pub status: u16,
    pub body_contains: Option<String>,
    /// The whole request, connect to last byte read.
    pub timeout: Duration,
}

/// `action = NAME` (+ `params`): an action template run on the target hosts through the
/// session's queue; a host passes when its run succeeds there (exit and success criteria).
#[derive(Debug, Clone, PartialEq)]
pub struct ActionProbe {
    pub action: String,
    /// As written; checked against the template's parameters when the run is built.
    pub params: BTreeMap<String, String>,
}

/// `[[checks]]` as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CheckFile {
    name: String,
    every: HumanDuration,
    target: SelectorText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    http: Option<HttpFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    params: Option<BTreeMap<String, ParamValue>>,
}

/// `http = { … }` as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timeout: Option<HumanDuration>,
}

impl TryFrom<CheckFile> for Check {
    type Error = String;

    fn try_from(file: CheckFile) -> Result<Self, Self::Error> {
        let name = file.name.trim().to_string();
        if name.is_empty() {
            return Err("a check's `name` cannot be empty".into());
        }
        if name.contains('/') {
            // The book's fingerprint is `CHECK/HOST`.
            return Err(format!("check `{name}`: `name` cannot contain `/`"));
        }
        let every = file.every.0;
        if every < MIN_EVERY {
            return Err(format!(
                "check `{name}`: `every` must be at least 1s, got {}",
                file.every
            ));
        }
        let probe = match (file.http, file.action, file.params) {
            (Some(_), Some(_), _) => {
                return Err(format!(
                    "check `{name}` has both `http` and `action`: write two checks"
                ));
            }
            (Some(_), None, Some(_)) => {
                return Err(format!(
                    "check `{name}`: `params` are for an `action` check, not an `http` one"
                ));
            }
            (None, None, _) => {
                return Err(format!(
                    "check `{name}` needs `http = {{ url = … }}` or `action = \"NAME\"`"
                ));
            }
            (Some(http), None, None) => Probe::Http(http_probe(&name, http, every)?),
            (None, Some(action), params) => {
                let action = action.trim().to_string();
                if action.is_empty() {
                    return Err(format!("check `{name}`: `action` cannot be empty"));
                }
                let params = params
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.0))
                    .collect();
                Probe::Action(ActionProbe { action, params })
            }
        };
        Ok(Check {
            name,
            every,
            target: file.target.0,
            severity: file.severity.unwrap_or(Severity::Warning),
            probe,
        })
    }
}

fn http_probe(name: &str, http: HttpFile, every: Duration) -> Result<HttpProbe, String> {
    if let Some(token) = url::unknown_placeholder(&http.url) {
        return Err(format!(
            "check `{name}`: `url` has `{token}`: only {{name}} and {{address}} are replaced"
        ));
    }
    // Parsed with sample values, so a URL that only works for some hosts is caught now.
    let sample = url::for_host(&http.url, "host", Some("127.0.0.1"));
    let parsed = reqwest::Url::parse(&sample)
        .map_err(|e| format!("check `{name}`: `url` `{}`: {e}", http.url))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "check `{name}`: `url` `{}`: scheme `{}` is not http or https",
            http.url,
            parsed.scheme()
        ));
    }
    let status = http.status.unwrap_or(200);
    if !(100..=599).contains(&status) {
        return Err(format!(
            "check `{name}`: `status` must be an HTTP status (100 to 599), got {status}"
        ));
    }
    if http.body_contains.as_deref() == Some("") {
        return Err(format!(
            "check `{name}`: `body_contains` cannot be empty (leave it out)"
        ));
    }
    let timeout = http.timeout.map_or(DEFAULT_TIMEOUT.min(every), |t| t.0);
    if timeout.is_zero() || timeout > every {
        return Err(format!(
            "check `{name}`: `timeout` must be more than 0s and at most `every` ({})",
            HumanDuration(every)
        ));
    }
    Ok(HttpProbe {
        url: http.url,
        status,
        body_contains: http.body_contains,
        timeout,
    })
}

impl From<Check> for CheckFile {
    fn from(c: Check) -> Self {
        let (http, action, params) = match c.probe {
            Probe::Http(h) => (
                Some(HttpFile {
                    url: h.url,
                    status: Some(h.status),
                    body_contains: h.body_contains,
                    timeout: Some(HumanDuration(h.timeout)),
                }),
                None,
                None,
            ),
            Probe::Action(a) => (
                None,
                Some(a.action),
                (!a.params.is_empty()).then(|| {
                    a.params
                        .into_iter()
                        .map(|(k, v)| (k, ParamValue(v)))
                        .collect()
                }),
            ),
        };
        CheckFile {
            name: c.name,
            every: HumanDuration(c.every),
            target: SelectorText(c.target),
            severity: Some(c.severity),
            http,
            action,
            params,
        }
    }
}

/// A `params` value: text, or a number or boolean written bare, kept as the text an operator
/// would type (the action's own checks read it).
#[derive(Debug, Clone)]
struct ParamValue(String);

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::incident::runbook::file::ParamText::deserialize(d).map(|p| ParamValue(p.0))
    }
}

impl Serialize for ParamValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A selector that parses and has no metric terms (those change with every sample; a check
/// probes a fixed set of hosts).
#[derive(Debug, Clone)]
struct SelectorText(String);

impl<'de> Deserialize<'de> for SelectorText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        plain_selector(
            &text,
            "target",
            "a check picks hosts by name, group, tag or env",
        )
        .map_err(serde::de::Error::custom)?;
        Ok(SelectorText(text))
    }
}

impl Serialize for SelectorText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// config.toml's `checks`: each entry validated, and no name used twice (a check's incidents
/// are known by its name).
pub fn de_checks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Check>, D::Error> {
    let list = Vec::<Check>::deserialize(d)?;
    unique_names(list.iter().map(|c| c.name.as_str()), "checks")
        .map_err(serde::de::Error::custom)?;
    Ok(list)
}
