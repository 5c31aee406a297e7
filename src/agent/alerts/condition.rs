//! Turning a stream of check results into alerts on transitions only: one alert when a
//! watcher goes bad, one resolved alert when it is good again, nothing while it stays put.

use crate::protocol::Severity;

/// What one check found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Status {
    /// All is well; the text says what was seen (used in a resolved alert's summary).
    Good(String),
    Bad(Problem),
    /// Nothing to conclude yet (no metrics sample, a threshold not exceeded for long enough,
    /// a log file briefly missing during rotation): the state stays as it was.
    Unknown,
}

/// A bad state. Two problems with the same `key` are the same state (a unit going from
/// `failed` to `inactive` is still "not active": no new alert).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub key: &'static str,
    pub severity: Severity,
    pub summary: String,
    pub detail: Option<String>,
}

/// An alert to append to the journal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draft {
    pub severity: Severity,
    pub summary: String,
    pub detail: Option<String>,
    pub resolved: bool,
}

/// The state of one watcher: the problem it last alerted on, if any. A watcher starts
/// good, so a problem present at start raises an alert.
#[derive(Debug, Default)]
pub(crate) struct Condition {
    active: Option<Problem>,
}

impl Condition {
    /// The alerts `status` calls for, and the state after them. The caller commits the state
    /// with [`commit`](Self::commit) once the alerts are written, so a failed write is retried
    /// at the next check rather than lost.
    pub(crate) fn observe(&self, status: Status) -> (Vec<Draft>, Option<Problem>) {
        let mut drafts = Vec::new();
        let next = match status {
            Status::Unknown => return (drafts, self.active.clone()),
            Status::Good(now) => {
                if let Some(old) = &self.active {
                    drafts.push(resolve(old, &now));
                }
                None
            }
            Status::Bad(problem) => {
                match &self.active {
                    Some(old) if old.key == problem.key => return (drafts, Some(old.clone())),
                    Some(old) => drafts.push(Draft {
                        severity: old.severity,
                        summary: format!("resolved: {}", old.summary),
                        detail: Some(format!("replaced by: {}", problem.summary)),
                        resolved: true,
                    }),
                    None => {}
                }
                drafts.push(Draft {
                    severity: problem.severity,
                    summary: problem.summary.clone(),
                    detail: problem.detail.clone(),
                    resolved: false,
                });
                Some(problem)
            }
        };
        (drafts, next)
    }

    pub(crate) fn commit(&mut self, next: Option<Problem>) {
        self.active = next;
    }
}

/// The resolved alert for `old`, summarizing what is true now.
fn resolve(old: &Problem, now: &str) -> Draft {
    Draft {
        severity: old.severity,
        summary: format!("resolved: {now}"),
        detail: Some(format!("was: {}", old.summary)),
        resolved: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(key: &'static str, summary: &str) -> Status {
        Status::Bad(Problem {
            key,
            severity: Severity::Critical,
            summary: summary.to_string(),
            detail: None,
        })
    }

    /// Feeds statuses through a condition, committing each time; returns every draft.
    fn run(statuses: Vec<Status>) -> Vec<(bool, String)> {
        let mut c = Condition::default();
        let mut out = Vec::new();
        for s in statuses {
            let (drafts, next) = c.observe(s);
            c.commit(next);
            out.extend(drafts.into_iter().map(|d| (d.resolved, d.summary)));
        }
        out
    }

    #[test]
    fn alerts_only_on_transitions() {
        let good = || Status::Good("x is active".to_string());
        let got = run(vec![
            good(),
            good(),
            bad("down", "x is failed"),
            bad("down", "x is inactive"),
            Status::Unknown,
            bad("down", "x is failed"),
            good(),
            good(),
            Status::Unknown,
        ]);
        assert_eq!(
            got,
            [
                (false, "x is failed".to_string()),
                (true, "resolved: x is active".to_string()),
            ]
        );
    }

    #[test]
    fn a_different_problem_resolves_the_old_one_and_raises_the_new() {
        let got = run(vec![
            bad("cannot_check", "cannot check x"),
            bad("down", "x is failed"),
        ]);
        assert_eq!(
            got,
            [
                (false, "cannot check x".to_string()),
                (true, "resolved: cannot check x".to_string()),
                (false, "x is failed".to_string()),
            ]
        );
    }

    #[test]
    fn without_commit_the_same_alert_is_proposed_again() {
        let c = Condition::default();
        let (first, _) = c.observe(bad("down", "x"));
        let (again, _) = c.observe(bad("down", "x"));
        assert_eq!(first, again);
        assert_eq!(first.len(), 1);
    }
}
