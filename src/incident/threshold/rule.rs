//! One `[[thresholds]]` entry of config.toml: its file form and its validation. Every problem
//! is a serde error, so config.toml's loader reports it at file:line:column like any other
//! bad setting (and `fleetdeck check` exits 2).

use std::time::Duration;

use crate::incident::config_rules::{plain_selector, unique_names};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::units::HumanDuration;
use crate::incident::facts::Severity;
use crate::metrics::Metric;

/// Which side of the limit is a breach. Both are strict: `above = 90` breaches at 90.1, not
/// at 90.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Above(f64),
    Below(f64),
}

impl Bound {
    pub fn breached_by(self, value: f64) -> bool {
        match self {
            Bound::Above(limit) => value > limit,
            Bound::Below(limit) => value < limit,
        }
    }

    pub fn limit(self) -> f64 {
        match self {
            Bound::Above(v) | Bound::Below(v) => v,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Bound::Above(_) => "above",
            Bound::Below(_) => "below",
        }
    }
}

/// A validated threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ThresholdFile", into = "ThresholdFile")]
pub struct Threshold {
    /// The `name` given, or one made from the rule (`disk above 90`, plus ` on SELECTOR`).
    pub name: String,
    /// One of [`Metric::LEVELS`].
    pub metric: Metric,
    pub bound: Bound,
    /// How long the breach must last, measured between sample timestamps (`for`); zero
    /// fires on the first breaching sample.
    pub hold: Duration,
    pub severity: Severity,
    /// The hosts it applies to (checked by `Selector::parse`, without metric terms); `None`
    /// is every host.
    pub selector: Option<String>,
    /// Whether `name` was written (kept so the file form round-trips).
    named: bool,
}

impl Threshold {
    /// The metric and limit in words, e.g. `disk above 90`.
    pub fn rule_text(&self) -> String {
        format!(
            "{} {} {}",
            self.metric,
            self.bound.word(),
            self.bound.limit()
        )
    }
}

/// `[[thresholds]]` as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    metric: LevelMetric,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    above: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    below: Option<f64>,
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    hold: Option<HumanDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selector: Option<SelectorText>,
}

impl TryFrom<ThresholdFile> for Threshold {
    type Error = String;

    fn try_from(file: ThresholdFile) -> Result<Self, Self::Error> {
        let metric = file.metric.0;
        let bound = match (file.above, file.below) {
            (Some(v), None) => Bound::Above(v),
            (None, Some(v)) => Bound::Below(v),
            (Some(_), Some(_)) => {
                return Err(format!(
                    "threshold on `{metric}` has both `above` and `below`: write two thresholds"
                ));
            }
            (None, None) => {
                return Err(format!(
                    "threshold on `{metric}` needs `above` or `below` (a number)"
                ));
            }
        };
        let limit = bound.limit();
        if !limit.is_finite() {
            return Err(format!("`{}` must be a finite number", bound.word()));
        }
        if metric.is_percent() && !(0.0..=100.0).contains(&limit) {
            return Err(format!(
                "`{metric}` is a percentage: `{}` must be between 0 and 100, got {limit}",
                bound.word()
            ));
        }
        if !metric.is_percent() && limit < 0.0 {
            return Err(format!(
                "`{metric}` is never negative: `{}` must be at least 0, got {limit}",
                bound.word()
            ));
        }
        let selector = file.selector.map(|s| s.0);
        let named = file.name.is_some();
        let name = match file.name {
            Some(n) if n.trim().is_empty() => {
                return Err("`name` cannot be empty (leave it out for a generated one)".into());
            }
            Some(n) => n.trim().to_string(),
            None => {
                let mut n = format!("{metric} {} {limit}", bound.word());
                if let Some(s) = &selector {
                    n.push_str(&format!(" on {s}"));
                }
                n
            }
        };
        Ok(Threshold {
            name,
            metric,
            bound,
            hold: file.hold.map_or(Duration::ZERO, |h| h.0),
            severity: file.severity.unwrap_or(Severity::Warning),
            selector,
            named,
        })
    }
}

impl From<Threshold> for ThresholdFile {
    fn from(t: Threshold) -> Self {
        let (above, below) = match t.bound {
            Bound::Above(v) => (Some(v), None),
            Bound::Below(v) => (None, Some(v)),
        };
        ThresholdFile {
            name: t.named.then_some(t.name),
            metric: LevelMetric(t.metric),
            above,
            below,
            hold: (!t.hold.is_zero()).then_some(HumanDuration(t.hold)),
            severity: Some(t.severity),
            selector: t.selector.map(SelectorText),
        }
    }
}

/// `cpu`, `mem`, `disk` or `load`: the metrics a selector's terms and the fleet table use.
#[derive(Debug, Clone, Copy)]
struct LevelMetric(Metric);

impl<'de> Deserialize<'de> for LevelMetric {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Metric::LEVELS
            .into_iter()
            .find(|m| m.name() == text)
            .map(LevelMetric)
            .ok_or_else(|| {
                let names = Metric::LEVELS.map(Metric::name);
                let hint = crate::diag::did_you_mean(&text, names)
                    .map(|m| format!(": did you mean `{m}`?"))
                    .unwrap_or_default();
                serde::de::Error::custom(format!(
                    "unknown metric `{text}`{hint} (expected one of cpu, mem, disk, load)"
                ))
            })
    }
}

impl Serialize for LevelMetric {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name())
    }
}

/// A selector that parses and has no metric terms (a threshold already is one).
#[derive(Debug, Clone)]
struct SelectorText(String);

impl<'de> Deserialize<'de> for SelectorText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        plain_selector(
            &text,
            "selector",
            "a threshold picks hosts by name, group, tag or env; its own `metric` and \
             `above`/`below` do the comparing",
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

/// config.toml's `thresholds`: each entry validated, and no name used twice (a breach is
/// known by its threshold's name).
pub fn de_thresholds<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Threshold>, D::Error> {
    let list = Vec::<Threshold>::deserialize(d)?;
    unique_names(list.iter().map(|t| t.name.as_str()), "thresholds")
        .map_err(serde::de::Error::custom)?;
    Ok(list)
}
