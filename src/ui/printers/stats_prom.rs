//! `fleetdeck stats --prometheus`: run statistics in Prometheus' text format, for
//! node_exporter's textfile collector. Names follow Prometheus' conventions (`fleetdeck_`
//! prefix, base units in the name, `_total` on counters); every group is labelled
//! `kind="command"|"action"` and `name="…"` (the command text or the action's name).

use std::collections::HashSet;

use super::sanitize::sanitize;
use crate::diag::Error;
use crate::metrics::prom_text::{MetricKind, PromError, PromText};
use crate::metrics::stats::{GroupStats, Outcome, RunStats};

/// The text, and the names of groups left out because they looked like another group once
/// their control characters were made visible (only a record with raw control characters
/// can do that).
#[derive(Debug)]
pub struct PromOutput {
    pub text: String,
    pub left_out: Vec<String>,
}

/// Outcomes every group has a series for, zero or not, so a rate starts from the first scrape.
const OUTCOMES: [Outcome; 7] = [
    Outcome::Ok,
    Outcome::Failed,
    Outcome::Timeout,
    Outcome::Unreachable,
    Outcome::Error,
    Outcome::Cancelled,
    Outcome::Skipped,
];

pub fn render_prometheus(stats: &RunStats) -> Result<PromOutput, Error> {
    let (groups, left_out) = labelled(stats);
    write(&groups, stats.unfinished.len())
        .map(|text| PromOutput { text, left_out })
        .map_err(|e| Error::Invalid(format!("cannot write the Prometheus text: {e}")))
}

/// A group with its label values. The format has no escape for control characters, so the
/// name is shown the way the table shows it (`^[` for ESC): the text may well reach a terminal.
struct Labelled<'a> {
    kind: &'static str,
    name: String,
    group: &'a GroupStats,
}

fn labelled(stats: &RunStats) -> (Vec<Labelled<'_>>, Vec<String>) {
    let mut seen = HashSet::new();
    let mut groups = Vec::new();
    let mut left_out = Vec::new();
    for group in &stats.groups {
        let kind = group.subject.kind();
        let name = sanitize(group.subject.name().as_bytes(), false);
        if seen.insert((kind, name.clone())) {
            groups.push(Labelled { kind, name, group });
        } else {
            left_out.push(name);
        }
    }
    (groups, left_out)
}

fn write(groups: &[Labelled<'_>], unfinished: usize) -> Result<String, PromError> {
    let mut p = PromText::new();
    p.family(
        "fleetdeck_runs_total",
        MetricKind::Counter,
        "Runs recorded in history (ended), per command or action.",
    )?;
    for g in groups {
        p.sample(&g.labels(), g.group.summary.runs as f64)?;
    }

    p.family(
        "fleetdeck_host_executions_total",
        MetricKind::Counter,
        "Host executions (one host of one run), by how they ended.",
    )?;
    for g in groups {
        let s = &g.group.summary;
        let extra = (s.outcome(Outcome::Unfinished) > 0).then_some(Outcome::Unfinished);
        for outcome in OUTCOMES.into_iter().chain(extra) {
            let mut labels = g.labels();
            labels.push(("outcome", outcome.as_str()));
            p.sample(&labels, s.outcome(outcome) as f64)?;
        }
    }

    p.family(
        "fleetdeck_host_failures_total",
        MetricKind::Counter,
        "Host executions that did not end ok, by kind (outcome:detail, e.g. failed:exit, \
         unreachable:auth).",
    )?;
    for g in groups {
        for (failure, n) in &g.group.summary.failures {
            let mut labels = g.labels();
            labels.push(("failure", failure));
            p.sample(&labels, *n as f64)?;
        }
    }

    p.family(
        "fleetdeck_host_success_ratio",
        MetricKind::Gauge,
        "Hosts ok / host executions (NaN without executions).",
    )?;
    for g in groups {
        let ratio = g.group.summary.success_rate.unwrap_or(f64::NAN);
        p.sample(&g.labels(), ratio)?;
    }

    p.family(
        "fleetdeck_run_duration_seconds",
        MetricKind::Summary,
        "Run duration from start to end: nearest-rank 0.95 quantile, sum and count (the \
         average is _sum / _count).",
    )?;
    for g in groups {
        let s = &g.group.summary;
        let mut labels = g.labels();
        labels.push(("quantile", "0.95"));
        let p95 = s.p95_duration_ms.map_or(f64::NAN, |ms| ms as f64 / 1000.0);
        p.sample(&labels, p95)?;
        p.sample_suffixed("_sum", &g.labels(), s.duration_sum_ms as f64 / 1000.0)?;
        p.sample_suffixed("_count", &g.labels(), s.timed_runs as f64)?;
    }

    p.family(
        "fleetdeck_runs_unfinished",
        MetricKind::Gauge,
        "Runs audit.jsonl says started, with no end recorded: running in another process, or \
         cut off by a crash.",
    )?;
    p.sample(&[], unfinished as f64)?;
    Ok(p.finish())
}

impl Labelled<'_> {
    fn labels(&self) -> Vec<(&str, &str)> {
        vec![("kind", self.kind), ("name", &self.name)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::stats::{HostOutcome, RunRecord, StatsBuilder, Subject};

    fn record(id: &str, command: &str, hosts: Vec<Outcome>) -> RunRecord {
        RunRecord {
            id: id.into(),
            subject: Subject::Command(command.into()),
            started: None,
            duration_ms: Some(2500),
            hosts: hosts
                .into_iter()
                .map(|outcome| HostOutcome {
                    outcome,
                    detail: (outcome == Outcome::Failed).then(|| "exit".to_string()),
                })
                .collect(),
        }
    }

    #[test]
    fn every_family_once_with_a_series_per_group() {
        let mut b = StatsBuilder::new(None);
        b.add(&record(
            "1",
            "say \"hi\"\nbye",
            vec![Outcome::Ok, Outcome::Failed],
        ));
        b.add(&record("2", "empty", vec![]));
        let out = render_prometheus(&b.finish()).unwrap();
        assert!(out.left_out.is_empty());
        let text = out.text;
        for family in [
            "fleetdeck_runs_total counter",
            "fleetdeck_host_executions_total counter",
            "fleetdeck_host_failures_total counter",
            "fleetdeck_host_success_ratio gauge",
            "fleetdeck_run_duration_seconds summary",
            "fleetdeck_runs_unfinished gauge",
        ] {
            assert_eq!(
                text.matches(&format!("# TYPE {family}\n")).count(),
                1,
                "{text}"
            );
        }
        let g = r#"kind="command",name="say \"hi\"\nbye""#;
        for line in [
            format!("fleetdeck_runs_total{{{g}}} 1"),
            format!("fleetdeck_host_executions_total{{{g},outcome=\"failed\"}} 1"),
            format!("fleetdeck_host_executions_total{{{g},outcome=\"timeout\"}} 0"),
            format!("fleetdeck_host_failures_total{{{g},failure=\"failed:exit\"}} 1"),
            format!("fleetdeck_host_success_ratio{{{g}}} 0.5"),
            format!("fleetdeck_run_duration_seconds{{{g},quantile=\"0.95\"}} 2.5"),
            format!("fleetdeck_run_duration_seconds_sum{{{g}}} 2.5"),
            format!("fleetdeck_run_duration_seconds_count{{{g}}} 1"),
            "fleetdeck_host_success_ratio{kind=\"command\",name=\"empty\"} NaN".to_string(),
            "fleetdeck_runs_unfinished 0".to_string(),
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }
    }

    #[test]
    fn control_characters_are_shown_and_a_lookalike_is_left_out_not_an_error() {
        let mut b = StatsBuilder::new(None);
        b.add(&record("1", "echo \u{1b}", vec![Outcome::Ok]));
        b.add(&record("2", "echo \u{1b}", vec![Outcome::Ok]));
        b.add(&record("3", "echo ^[", vec![Outcome::Ok]));
        let out = render_prometheus(&b.finish()).unwrap();
        assert!(!out.text.contains('\u{1b}'));
        assert!(out.text.contains("name=\"echo ^[\"} 2"), "{}", out.text);
        assert_eq!(out.left_out, ["echo ^["]);
    }
}
