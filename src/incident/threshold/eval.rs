//! The threshold evaluator: fed the latest sample of each host (every second, or on each
//! metrics frame), it keeps one small state per (threshold, host) and reports only changes:
//! a breach that started firing, or one that cleared.
//!
//! Time is the samples' own timestamps, never a clock read here, so the evaluator is pure
//! and replays the same way in tests. Rules:
//! - A sample is **fresh** when its timestamp is newer than the last one seen for that
//!   (threshold, host). A stale sample (the same one fed again, or an older one after a
//!   clock step back) changes nothing: a host that stops reporting neither fires nor clears;
//!   its state stays until fresh data says otherwise.
//! - A fresh sample without the threshold's metric also changes nothing.
//! - A breaching sample starts the breach at its timestamp (`since`); it fires once a
//!   breaching sample is at least `for` after `since` (at once for `for = 0`). A sample that
//!   does not breach before then cancels it silently.
//! - A firing breach clears on the first fresh sample that does not breach.
//!
//! Memory: one state per (threshold, host in its scope) that has been fed; hosts outside a
//! threshold's selector get none. [`Evaluator::retain_hosts`] drops hosts that left the
//! inventory.

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use super::rule::{Bound, Threshold};
use crate::incident::facts::{IncidentFacts, Severity, Source};
use crate::inventory::Inventory;
use crate::inventory::selector::{Selector, SelectorError};
use crate::metrics::{Metric, MetricsFrame, Sample};

/// One breach of a threshold on one host.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    /// The threshold's name (unique in config.toml).
    pub threshold: String,
    pub host: String,
    pub metric: Metric,
    pub bound: Bound,
    pub severity: Severity,
    /// The value of the sample that fired or cleared it.
    pub value: f64,
    /// Timestamp of the first breaching sample of this breach.
    pub since: SystemTime,
    /// Timestamp of the sample that fired or cleared it.
    pub at: SystemTime,
}

impl Breach {
    /// The breach as the runbooks and the analysis read an incident: titled with the
    /// threshold's name, labelled `threshold`, `metric`, `host`, `value` and `limit` (so a
    /// runbook rule can match `match.labels = { metric = "disk" }`).
    pub fn facts(&self) -> IncidentFacts {
        let labels = [
            ("threshold", self.threshold.clone()),
            ("metric", self.metric.name().to_string()),
            ("host", self.host.clone()),
            ("value", format!("{:.1}", self.value)),
            (
                "limit",
                format!("{} {}", self.bound.word(), self.bound.limit()),
            ),
        ];
        IncidentFacts {
            source: Source::Threshold,
            title: self.threshold.clone(),
            severity: self.severity,
            labels: labels
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            annotations: Default::default(),
            hosts: vec![self.host.clone()],
        }
    }
}

/// A change the evaluator saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    Firing(Breach),
    Cleared(Breach),
}

impl Observation {
    pub fn breach(&self) -> &Breach {
        match self {
            Observation::Firing(b) | Observation::Cleared(b) => b,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Ok,
    /// Breaching since then, not yet for long enough.
    Pending(SystemTime),
    Firing(SystemTime),
}

#[derive(Debug, Clone, Copy)]
struct State {
    last_ts: SystemTime,
    phase: Phase,
}

#[derive(Debug, Clone)]
struct Rule {
    threshold: Threshold,
    /// The hosts the selector picked; `None` is every host fed.
    scope: Option<HashSet<String>>,
}

/// Per-(threshold, host) state over the thresholds of config.toml.
#[derive(Debug, Clone, Default)]
pub struct Evaluator {
    rules: Vec<Rule>,
    states: HashMap<(usize, String), State>,
}

impl Evaluator {
    /// The thresholds, their selectors resolved on `inventory` once (call again when the
    /// inventory changes; state is then lost, so firing breaches fire again on the next fresh
    /// sample). Fails for a selector naming an unknown group.
    pub fn new(thresholds: &[Threshold], inventory: &Inventory) -> Result<Self, String> {
        let mut rules = Vec::with_capacity(thresholds.len());
        for t in thresholds {
            let scope = match &t.selector {
                None => None,
                Some(text) => Some(scope(text, inventory).map_err(|e| {
                    format!("threshold `{}`: selector `{text}`: {}", t.name, e.message)
                })?),
            };
            rules.push(Rule {
                threshold: t.clone(),
                scope,
            });
        }
        Ok(Evaluator {
            rules,
            states: HashMap::new(),
        })
    }

    /// Feeds each host's latest sample; returns the breaches that fired or cleared, in the
    /// order of the thresholds, then of the readings.
    pub fn observe<'a>(
        &mut self,
        readings: impl IntoIterator<Item = (&'a str, &'a Sample)>,
    ) -> Vec<Observation> {
        let readings: Vec<(&str, &Sample)> = readings.into_iter().collect();
        let mut out = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            for (host, sample) in &readings {
                if rule.scope.as_ref().is_some_and(|s| !s.contains(*host)) {
                    continue;
                }
                let key = (index, (*host).to_string());
                let previous = self.states.get(&key).copied();
                if let Some(change) = step(&rule.threshold, host, sample, previous, &mut out) {
                    self.states.insert(key, change);
                }
            }
        }
        out
    }

    /// Feeds a console's metrics frame: each host's latest sample, hosts in name order (so
    /// the observations come in a stable order). A repeated frame changes nothing.
    pub fn observe_frame(&mut self, frame: &MetricsFrame) -> Vec<Observation> {
        let mut readings: Vec<(&str, &Sample)> = frame
            .hosts
            .iter()
            .filter_map(|(host, now)| now.latest.as_ref().map(|s| (host.as_str(), s)))
            .collect();
        readings.sort_by_key(|(host, _)| *host);
        self.observe(readings)
    }

    /// The breaches firing now.
    pub fn firing(&self) -> Vec<(&str, &str, SystemTime)> {
        let mut out: Vec<_> = self
            .states
            .iter()
            .filter_map(|((i, host), s)| match s.phase {
                Phase::Firing(since) => self
                    .rules
                    .get(*i)
                    .map(|r| (r.threshold.name.as_str(), host.as_str(), since)),
                _ => None,
            })
            .collect();
        out.sort();
        out
    }

    /// Forgets every host `keep` refuses (hosts gone from the inventory).
    pub fn retain_hosts(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.states.retain(|(_, host), _| keep(host));
    }

    /// How many (threshold, host) states are held.
    pub fn state_count(&self) -> usize {
        self.states.len()
    }
}

fn scope(text: &str, inventory: &Inventory) -> Result<HashSet<String>, SelectorError> {
    let selector = Selector::parse(text)?;
    Ok(selector
        .resolve(inventory)?
        .into_iter()
        .map(|h| h.name)
        .collect())
}

/// One threshold, one host, one sample: the new state (`None`: unchanged), and the change
/// pushed to `out` if there is one.
fn step(
    t: &Threshold,
    host: &str,
    sample: &Sample,
    previous: Option<State>,
    out: &mut Vec<Observation>,
) -> Option<State> {
    let phase = match previous {
        Some(p) if sample.ts <= p.last_ts => return None,
        Some(p) => p.phase,
        None => Phase::Ok,
    };
    let ts = sample.ts;
    let Some(value) = sample.get(t.metric) else {
        return Some(State { last_ts: ts, phase });
    };
    let breach = |since| Breach {
        threshold: t.name.clone(),
        host: host.to_string(),
        metric: t.metric,
        bound: t.bound,
        severity: t.severity,
        value,
        since,
        at: ts,
    };
    let breaching = t.bound.breached_by(value);
    let due = |since: SystemTime| ts.duration_since(since).unwrap_or_default() >= t.hold;
    let phase = match (phase, breaching) {
        (Phase::Ok, true) if due(ts) => {
            out.push(Observation::Firing(breach(ts)));
            Phase::Firing(ts)
        }
        (Phase::Ok, true) => Phase::Pending(ts),
        (Phase::Pending(since), true) if due(since) => {
            out.push(Observation::Firing(breach(since)));
            Phase::Firing(since)
        }
        (Phase::Firing(since), false) => {
            out.push(Observation::Cleared(breach(since)));
            Phase::Ok
        }
        (p @ (Phase::Pending(_) | Phase::Firing(_)), true) => p,
        (_, false) => Phase::Ok,
    };
    Some(State { last_ts: ts, phase })
}
