//! Run statistics: from recorded runs, per command or action, how many runs and host
//! executions, how many hosts ended ok, how long runs took (average and 95th percentile), and
//! why hosts did not end ok; plus the totals, and the runs that started but never ended.
//!
//! Pure: it counts what it is handed. Reading history.jsonl and audit.jsonl, and turning a
//! recorded run into a [`RunRecord`] (engine/run_stats.rs), happen above this layer, so this
//! module names no engine type. Every name it reports is text from a record.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use time::OffsetDateTime;

/// What a run ran: an action (grouped by the action's name) or a command (grouped by its
/// recorded text, secrets already masked).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Action(String),
    Command(String),
}

impl Subject {
    /// `action` or `command`.
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Action(_) => "action",
            Subject::Command(_) => "command",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Subject::Action(name) | Subject::Command(name) => name,
        }
    }
}

/// How one host's part of a run ended, in the words history records use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    Ok,
    Failed,
    Timeout,
    Unreachable,
    Error,
    Cancelled,
    Skipped,
    /// Pending, connecting or running: a record written before the host ended (not written
    /// by fleetdeck today, but a record may say so).
    Unfinished,
}

impl Outcome {
    pub const ALL: [Outcome; 8] = [
        Outcome::Ok,
        Outcome::Failed,
        Outcome::Timeout,
        Outcome::Unreachable,
        Outcome::Error,
        Outcome::Cancelled,
        Outcome::Skipped,
        Outcome::Unfinished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Timeout => "timeout",
            Outcome::Unreachable => "unreachable",
            Outcome::Error => "error",
            Outcome::Cancelled => "cancelled",
            Outcome::Skipped => "skipped",
            Outcome::Unfinished => "unfinished",
        }
    }
}

/// One host of a run: its outcome and, for one that did not end ok, a detail that tells the
/// ways apart (`exit`, `signal`, `idle`, `auth`, `connect`…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOutcome {
    pub outcome: Outcome,
    pub detail: Option<String>,
}

impl HostOutcome {
    /// The failure kind it is counted under: `outcome` or `outcome:detail`; `None` when ok.
    pub fn failure_kind(&self) -> Option<String> {
        match (self.outcome, &self.detail) {
            (Outcome::Ok, _) => None,
            (outcome, None) => Some(outcome.as_str().to_string()),
            (outcome, Some(detail)) => Some(format!("{}:{detail}", outcome.as_str())),
        }
    }
}

/// One recorded run, as statistics see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub id: String,
    pub subject: Subject,
    /// When it started; `None` when the record's time cannot be read.
    pub started: Option<OffsetDateTime>,
    /// From start to end; `None` when either time cannot be read (or they run backwards).
    pub duration_ms: Option<u64>,
    pub hosts: Vec<HostOutcome>,
}

/// The counts of one group, or of all runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub runs: u64,
    /// One per host per run (every host a run recorded, skipped and cancelled ones too).
    pub host_executions: u64,
    pub hosts_ok: u64,
    /// `hosts_ok / host_executions`; `None` without executions.
    pub success_rate: Option<f64>,
    /// Runs whose duration is known (the ones `avg`, `p95` and `sum` cover).
    pub timed_runs: u64,
    pub duration_sum_ms: u64,
    pub avg_duration_ms: Option<f64>,
    /// Nearest-rank 95th percentile.
    pub p95_duration_ms: Option<u64>,
    /// Host executions by outcome (only outcomes that happened).
    pub outcomes: BTreeMap<Outcome, u64>,
    /// Host executions that did not end ok, by [`HostOutcome::failure_kind`].
    pub failures: BTreeMap<String, u64>,
}

impl Summary {
    /// How many host executions ended this way (0 for none).
    pub fn outcome(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(&outcome).copied().unwrap_or(0)
    }

    /// The failures, most frequent first, then by kind.
    pub fn failures_by_count(&self) -> Vec<(&str, u64)> {
        let mut list: Vec<(&str, u64)> = self
            .failures
            .iter()
            .map(|(kind, n)| (kind.as_str(), *n))
            .collect();
        list.sort_by_key(|(kind, n)| (Reverse(*n), *kind));
        list
    }
}

/// One command or action and its counts.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupStats {
    pub subject: Subject,
    pub summary: Summary,
}

/// The statistics of a window of history.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunStats {
    /// Most runs first, then by name (then actions before commands).
    pub groups: Vec<GroupStats>,
    pub totals: Summary,
    /// Runs left out by the window because their start time cannot be read.
    pub undated: u64,
    /// Ids of runs audit.jsonl says started, with no end in audit or history (running in
    /// another process now, or cut off by a crash: the records cannot tell which), oldest
    /// first.
    pub unfinished: Vec<String>,
}

/// Counts runs as they are read; [`StatsBuilder::finish`] gives the [`RunStats`].
///
/// Unfinished runs: hand it audit lines first, oldest first ([`Self::audit_started`],
/// [`Self::audit_ended`]), then the history records ([`Self::add`]), each of which ends its
/// run. Only the runs still open are held, so memory follows them, not the audit's length.
#[derive(Debug, Default)]
pub struct StatsBuilder {
    cutoff: Option<OffsetDateTime>,
    groups: HashMap<Subject, Tally>,
    totals: Tally,
    undated: u64,
    open: HashMap<String, (u64, Option<OffsetDateTime>)>,
    seen_starts: u64,
}

#[derive(Debug, Default)]
struct Tally {
    runs: u64,
    host_executions: u64,
    durations_ms: Vec<u64>,
    outcomes: BTreeMap<Outcome, u64>,
    failures: BTreeMap<String, u64>,
}

impl StatsBuilder {
    /// Counts runs started at or after `cutoff` (every run without one).
    pub fn new(cutoff: Option<OffsetDateTime>) -> Self {
        StatsBuilder {
            cutoff,
            ..Self::default()
        }
    }

    /// Whether a run that started at `started` is in the window.
    pub fn in_window(&self, started: Option<OffsetDateTime>) -> bool {
        match (self.cutoff, started) {
            (None, _) => true,
            (Some(cutoff), Some(started)) => started >= cutoff,
            (Some(_), None) => false,
        }
    }

    /// Counts one recorded run if it is in the window; returns whether it was. It also ends
    /// the run for [`RunStats::unfinished`], in the window or not.
    pub fn add(&mut self, run: &RunRecord) -> bool {
        self.open.remove(&run.id);
        if !self.in_window(run.started) {
            if run.started.is_none() {
                self.undated += 1;
            }
            return false;
        }
        self.totals.add(run);
        self.groups.entry(run.subject.clone()).or_default().add(run);
        true
    }

    /// audit.jsonl says run `id` started at `at`.
    pub fn audit_started(&mut self, id: &str, at: Option<OffsetDateTime>) {
        if self.in_window(at) {
            self.seen_starts += 1;
            self.open.insert(id.to_string(), (self.seen_starts, at));
        }
    }

    /// audit.jsonl says run `id` ended.
    pub fn audit_ended(&mut self, id: &str) {
        self.open.remove(id);
    }

    pub fn finish(self) -> RunStats {
        let mut groups: Vec<GroupStats> = self
            .groups
            .into_iter()
            .map(|(subject, tally)| GroupStats {
                subject,
                summary: tally.summary(),
            })
            .collect();
        groups.sort_by(|a, b| {
            b.summary
                .runs
                .cmp(&a.summary.runs)
                .then_with(|| a.subject.name().cmp(b.subject.name()))
                .then_with(|| a.subject.cmp(&b.subject))
        });
        let mut open: Vec<(u64, String)> = self
            .open
            .into_iter()
            .map(|(id, (order, _))| (order, id))
            .collect();
        open.sort();
        RunStats {
            groups,
            totals: self.totals.summary(),
            undated: self.undated,
            unfinished: open.into_iter().map(|(_, id)| id).collect(),
        }
    }
}

impl Tally {
    fn add(&mut self, run: &RunRecord) {
        self.runs += 1;
        if let Some(ms) = run.duration_ms {
            self.durations_ms.push(ms);
        }
        for host in &run.hosts {
            self.host_executions += 1;
            *self.outcomes.entry(host.outcome).or_default() += 1;
            if let Some(kind) = host.failure_kind() {
                *self.failures.entry(kind).or_default() += 1;
            }
        }
    }

    fn summary(mut self) -> Summary {
        self.durations_ms.sort_unstable();
        let timed = self.durations_ms.len();
        let sum: u64 = self
            .durations_ms
            .iter()
            .fold(0u64, |acc, ms| acc.saturating_add(*ms));
        let hosts_ok = self.outcomes.get(&Outcome::Ok).copied().unwrap_or(0);
        Summary {
            runs: self.runs,
            host_executions: self.host_executions,
            hosts_ok,
            success_rate: (self.host_executions > 0)
                .then(|| hosts_ok as f64 / self.host_executions as f64),
            timed_runs: timed as u64,
            duration_sum_ms: sum,
            avg_duration_ms: (timed > 0).then(|| sum as f64 / timed as f64),
            p95_duration_ms: percentile(&self.durations_ms, 95),
            outcomes: self.outcomes,
            failures: self.failures,
        }
    }
}

/// The nearest-rank `p`th percentile of sorted values: the smallest value with at least
/// `p`% of the values at or below it. `None` for no values.
pub fn percentile(sorted: &[u64], p: u32) -> Option<u64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (n * p.min(100) as usize).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn host(outcome: Outcome, detail: Option<&str>) -> HostOutcome {
        HostOutcome {
            outcome,
            detail: detail.map(str::to_string),
        }
    }

    fn ok() -> HostOutcome {
        host(Outcome::Ok, None)
    }

    fn record(id: &str, subject: Subject, ms: Option<u64>, hosts: Vec<HostOutcome>) -> RunRecord {
        RunRecord {
            id: id.to_string(),
            subject,
            started: Some(datetime!(2026-03-01 12:00 UTC)),
            duration_ms: ms,
            hosts,
        }
    }

    fn cmd(text: &str) -> Subject {
        Subject::Command(text.to_string())
    }

    fn action(name: &str) -> Subject {
        Subject::Action(name.to_string())
    }

    #[test]
    fn groups_count_runs_hosts_outcomes_and_failures_by_kind() {
        let mut b = StatsBuilder::new(None);
        b.add(&record(
            "1",
            cmd("uptime"),
            Some(100),
            vec![ok(), ok(), host(Outcome::Failed, Some("exit"))],
        ));
        b.add(&record(
            "2",
            cmd("uptime"),
            Some(300),
            vec![
                ok(),
                host(Outcome::Unreachable, Some("auth")),
                host(Outcome::Failed, Some("exit")),
            ],
        ));
        b.add(&record(
            "3",
            action("restart"),
            Some(50),
            vec![host(Outcome::Skipped, None), host(Outcome::Cancelled, None)],
        ));
        let stats = b.finish();
        assert_eq!(stats.groups.len(), 2);
        let uptime = &stats.groups[0];
        assert_eq!(uptime.subject, cmd("uptime"));
        let s = &uptime.summary;
        assert_eq!((s.runs, s.host_executions, s.hosts_ok), (2, 6, 3));
        assert_eq!(s.success_rate, Some(0.5));
        assert_eq!(s.avg_duration_ms, Some(200.0));
        assert_eq!(s.p95_duration_ms, Some(300));
        assert_eq!(s.duration_sum_ms, 400);
        assert_eq!(s.outcome(Outcome::Failed), 2);
        assert_eq!(s.outcome(Outcome::Timeout), 0);
        assert_eq!(
            s.failures_by_count(),
            [("failed:exit", 2), ("unreachable:auth", 1)]
        );

        let restart = &stats.groups[1].summary;
        assert_eq!(restart.success_rate, Some(0.0));
        assert_eq!(
            restart.failures_by_count(),
            [("cancelled", 1), ("skipped", 1)]
        );

        let t = &stats.totals;
        assert_eq!((t.runs, t.host_executions, t.hosts_ok), (3, 8, 3));
        assert_eq!(t.outcomes.values().sum::<u64>(), t.host_executions);
        assert_eq!(t.failures.values().sum::<u64>(), t.host_executions - 3);
        assert_eq!(t.p95_duration_ms, Some(300));
    }

    #[test]
    fn ordering_is_runs_descending_then_name_then_kind() {
        let mut b = StatsBuilder::new(None);
        for (i, subject) in [
            cmd("b"),
            cmd("a"),
            action("a"),
            cmd("z"),
            cmd("z"),
            cmd("b"),
        ]
        .into_iter()
        .enumerate()
        {
            b.add(&record(&i.to_string(), subject, Some(1), vec![ok()]));
        }
        let stats = b.finish();
        let order: Vec<(&str, &str)> = stats
            .groups
            .iter()
            .map(|g| (g.subject.kind(), g.subject.name()))
            .collect();
        assert_eq!(
            order,
            [
                ("command", "b"),
                ("command", "z"),
                ("action", "a"),
                ("command", "a")
            ]
        );
    }

    #[test]
    fn the_window_keeps_runs_started_at_or_after_the_cutoff() {
        let cutoff = datetime!(2026-03-01 12:00 UTC);
        let mut b = StatsBuilder::new(Some(cutoff));
        let mut early = record("1", cmd("x"), Some(1), vec![ok()]);
        early.started = Some(cutoff - time::Duration::milliseconds(1));
        let mut undated = record("2", cmd("x"), None, vec![ok()]);
        undated.started = None;
        assert!(!b.add(&early));
        assert!(!b.add(&undated));
        assert!(b.add(&record("3", cmd("x"), Some(1), vec![ok()])));
        let stats = b.finish();
        assert_eq!(stats.totals.runs, 1);
        assert_eq!(stats.undated, 1);

        // Without a window an undated run counts, without a duration.
        let mut b = StatsBuilder::new(None);
        assert!(b.add(&undated));
        let t = b.finish().totals;
        assert_eq!((t.runs, t.timed_runs, t.avg_duration_ms), (1, 0, None));
    }

    #[test]
    fn empty_history_gives_zero_totals_and_no_rates() {
        let stats = StatsBuilder::new(None).finish();
        assert!(stats.groups.is_empty());
        assert_eq!(stats.totals.runs, 0);
        assert_eq!(stats.totals.success_rate, None);
        assert_eq!(stats.totals.p95_duration_ms, None);
        assert!(stats.unfinished.is_empty());

        // A run that recorded no host has no rate either.
        let mut b = StatsBuilder::new(None);
        b.add(&record("1", cmd("x"), Some(5), vec![]));
        assert_eq!(b.finish().groups[0].summary.success_rate, None);
    }

    #[test]
    fn nearest_rank_percentile() {
        assert_eq!(percentile(&[], 95), None);
        assert_eq!(percentile(&[7], 95), Some(7));
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 95), Some(95));
        assert_eq!(percentile(&hundred, 100), Some(100));
        let twenty: Vec<u64> = (1..=20).collect();
        assert_eq!(percentile(&twenty, 95), Some(19));
        assert_eq!(percentile(&[1, 2], 95), Some(2));
        assert_eq!(percentile(&[1, 2, 3], 0), Some(1));
    }

    #[test]
    fn unfinished_runs_are_started_without_an_end_in_audit_or_history() {
        let t = datetime!(2026-03-01 12:00 UTC);
        let mut b = StatsBuilder::new(Some(t));
        b.audit_started("ended-in-audit", Some(t));
        b.audit_started("ended-in-history", Some(t));
        b.audit_started("running-1", Some(t));
        b.audit_started("too-old", Some(t - time::Duration::hours(1)));
        b.audit_started("running-2", Some(t));
        b.audit_ended("ended-in-audit");
        b.audit_ended("never-started");
        let mut old = record("ended-in-history", cmd("x"), Some(1), vec![ok()]);
        old.started = Some(t - time::Duration::hours(2));
        assert!(!b.add(&old), "out of the window, but it still ends its run");
        let stats = b.finish();
        assert_eq!(stats.unfinished, ["running-1", "running-2"]);
        assert_eq!(stats.totals.runs, 0);
    }

    #[test]
    fn failure_kinds_name_outcome_and_detail() {
        assert_eq!(ok().failure_kind(), None);
        assert_eq!(
            host(Outcome::Ok, Some("x")).failure_kind(),
            None,
            "an ok host is never a failure"
        );
        assert_eq!(
            host(Outcome::Timeout, Some("idle"))
                .failure_kind()
                .as_deref(),
            Some("timeout:idle")
        );
        assert_eq!(
            host(Outcome::Skipped, None).failure_kind().as_deref(),
            Some("skipped")
        );
    }
}
