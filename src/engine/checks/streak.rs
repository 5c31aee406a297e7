//! A check's rounds turned into book observations (pure: the runner feeds it what each host
//! did, it answers what to record).
//!
//! Chosen: one incident per (check, host), fingerprint `CHECK/HOST`, like thresholds. The
//! book never changes an active incident's hosts (a `seen` only counts), so one incident per
//! check would keep naming the hosts of its first failing round while others fail or recover;
//! per host, each failing host opens its own and each recovery resolves exactly its own, and
//! the Incidents view groups them by title or source anyway.
//!
//! Timestamps: a failure's `ts` is the first round of its streak, the same on every failing
//! round (so the book counts it once and refreshes `last_seen` on its own schedule); a pass
//! is stamped when it passed. A host passing in the runner's first round is cleared even
//! though this runner never saw it fail: an incident left open by an earlier run (or another
//! process) resolves (clearing what is not active writes nothing).

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use crate::incident::check::Check;
use crate::incident::{Observation, Source};
use crate::store::system_rfc3339;

/// Longest error kept in an incident's annotation, in characters.
pub const ERROR_MAX: usize = 300;

/// What one host did in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probed {
    Passed,
    Failed(String),
    /// Not probed (its breaker is open): its earlier result stands.
    Skipped,
}

/// One check's failure streaks across rounds.
#[derive(Debug, Default)]
pub struct Streaks {
    /// Failing hosts: when their streak began, and its latest error.
    failing: BTreeMap<String, (SystemTime, String)>,
    /// Hosts that had a round already (a first pass clears a left-open incident).
    seen: BTreeSet<String>,
}

impl Streaks {
    /// When `host`'s failure streak began, if it is failing.
    pub fn failing_since(&self, host: &str) -> Option<SystemTime> {
        self.failing.get(host).map(|(since, _)| *since)
    }

    /// The observations of a round that ended at `at`. Every failing host is reported each
    /// round (with its streak's start, so nothing new is written); a pass only when it ends
    /// a streak or is the host's first round.
    pub fn round(
        &mut self,
        check: &Check,
        results: &BTreeMap<String, Probed>,
        at: SystemTime,
    ) -> Vec<Observation> {
        let mut out = Vec::new();
        for (host, probed) in results {
            let first = self.seen.insert(host.clone());
            match probed {
                Probed::Failed(error) => {
                    let entry = self
                        .failing
                        .entry(host.clone())
                        .or_insert_with(|| (at, String::new()));
                    entry.1.clone_from(error);
                    out.push(observation(check, host, Some(error), entry.0));
                }
                Probed::Passed => {
                    if self.failing.remove(host).is_some() || first {
                        out.push(observation(check, host, None, at));
                    }
                }
                Probed::Skipped => {
                    if let Some((since, error)) = self.failing.get(host) {
                        out.push(observation(check, host, Some(error), *since));
                    }
                }
            }
        }
        out
    }
}

/// The book's observation of `check` on `host`: failing with `error` since `ts`, or
/// passed at `ts`.
pub fn observation(check: &Check, host: &str, error: Option<&str>, ts: SystemTime) -> Observation {
    let mut labels = BTreeMap::new();
    labels.insert("check".to_string(), check.name.clone());
    labels.insert("kind".to_string(), check.probe.kind().to_string());
    labels.insert("host".to_string(), host.to_string());
    let mut annotations = BTreeMap::new();
    if let Some(e) = error {
        annotations.insert("error".to_string(), clean(e));
    }
    Observation {
        source: Source::Check,
        fingerprint: format!("{}/{host}", check.name),
        title: format!("check {} failing on {host}", check.name),
        severity: check.severity,
        hosts: vec![host.to_string()],
        labels,
        annotations,
        firing: error.is_some(),
        ts: system_rfc3339(ts),
    }
}

/// One line, no control characters (it reaches terminals and Slack), at most ERROR_MAX
/// characters (`…` when clipped).
pub fn clean(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    if trimmed.chars().count() <= ERROR_MAX {
        return trimmed.to_string();
    }
    let mut clipped: String = trimmed.chars().take(ERROR_MAX - 1).collect();
    clipped.push('…');
    clipped
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn check() -> Check {
        #[derive(serde::Deserialize)]
        struct W {
            checks: Vec<Check>,
        }
        let w: W = toml::from_str(
            "[[checks]]\nname = \"api\"\nevery = \"5s\"\ntarget = \"all\"\n\
             http = { url = \"http://{name}/\" }\n",
        )
        .unwrap();
        w.checks.into_iter().next().unwrap()
    }

    fn results(list: &[(&str, Probed)]) -> BTreeMap<String, Probed> {
        list.iter()
            .map(|(h, p)| ((*h).to_string(), p.clone()))
            .collect()
    }

    #[test]
    fn a_streak_keeps_its_start_and_a_pass_ends_it() {
        let c = check();
        let mut s = Streaks::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let t1 = t0 + Duration::from_secs(5);
        let t2 = t1 + Duration::from_secs(5);
        let first = s.round(
            &c,
            &results(&[("a", Probed::Passed), ("b", Probed::Failed("500".into()))]),
            t0,
        );
        assert_eq!(first.len(), 2, "a first pass clears, a failure fires");
        assert!(!first[0].firing && first[1].firing);
        assert_eq!(first[1].fingerprint, "api/b");
        let second = s.round(
            &c,
            &results(&[("a", Probed::Passed), ("b", Probed::Failed("503".into()))]),
            t1,
        );
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].ts, first[1].ts, "same streak, same ts");
        let skipped = s.round(&c, &results(&[("b", Probed::Skipped)]), t1);
        assert!(skipped[0].firing);
        assert_eq!(skipped[0].ts, first[1].ts);
        let third = s.round(&c, &results(&[("b", Probed::Passed)]), t2);
        assert_eq!(third.len(), 1);
        assert!(!third[0].firing);
        assert_eq!(third[0].ts, system_rfc3339(t2));
        assert_eq!(s.failing_since("b"), None);
    }

    #[test]
    fn errors_are_one_clipped_line() {
        assert_eq!(clean("a\nb\u{1b}[31m"), "a b [31m");
        assert_eq!(clean(&"x".repeat(1000)).chars().count(), ERROR_MAX);
    }
}
