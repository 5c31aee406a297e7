//! `fleetdeck stats`: run statistics as a table for people or one JSON object (the shape is in
//! README.md, "Run statistics"). Names come from the records and are sanitized for the
//! terminal; nothing else of a record is shown.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use super::history::{clean, shorten};
use super::run_summary::human_ms;
use super::sanitize::json_terminal_safe;
use super::table;
use crate::config::units::format_duration;
use crate::diag::Error;
use crate::metrics::stats::{RunStats, Summary};
use crate::store::rfc3339_millis;

/// Longest command shown in the table (JSON has it whole).
const MAX_NAME_CHARS: usize = 60;

/// Which runs were counted: those started at or after `from` (`since` before `now`), or all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub now: OffsetDateTime,
    pub since: Option<Duration>,
    pub from: Option<OffsetDateTime>,
}

/// What was counted, one row per command or action (most runs first), a total row, and the
/// runs that started without an end.
pub fn render_table(stats: &RunStats, window: &Window) -> String {
    let mut out = match (window.since, window.from) {
        (Some(since), Some(from)) => format!(
            "runs started since {} UTC (last {})\n",
            when(from),
            format_duration(since)
        ),
        _ => "all recorded runs\n".to_string(),
    };
    if stats.groups.is_empty() {
        out.push_str("no runs recorded in that time\n");
    } else {
        let mut rows: Vec<Vec<String>> = stats
            .groups
            .iter()
            .map(|g| {
                row(
                    g.subject.kind(),
                    &shorten(&one_line(g.subject.name()), MAX_NAME_CHARS),
                    &g.summary,
                )
            })
            .collect();
        rows.push(row("total", "", &stats.totals));
        out.push_str(&table(
            &[
                "KIND", "NAME", "RUNS", "HOSTS", "OK", "AVG", "P95", "FAILURES",
            ],
            &rows,
        ));
    }
    out.push_str(&format!(
        "unfinished runs: {} (started in audit.jsonl with no end: running in another process, \
         or cut off by a crash)\n",
        stats.unfinished.len()
    ));
    if stats.undated > 0 {
        out.push_str(&format!(
            "left out: {} run(s) whose start time cannot be read\n",
            stats.undated
        ));
    }
    out
}

fn row(kind: &str, name: &str, s: &Summary) -> Vec<String> {
    let failures: Vec<String> = s
        .failures_by_count()
        .into_iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    vec![
        kind.to_string(),
        name.to_string(),
        s.runs.to_string(),
        s.host_executions.to_string(),
        s.success_rate
            .map_or_else(|| "-".to_string(), |r| format!("{:.1}%", r * 100.0)),
        s.avg_duration_ms
            .map_or_else(|| "-".to_string(), |ms| human_ms(round_ms(ms))),
        s.p95_duration_ms.map_or_else(|| "-".to_string(), human_ms),
        failures.join(", "),
    ]
}

#[derive(Serialize)]
struct StatsJson<'a> {
    generated: String,
    since: Option<String>,
    from: Option<String>,
    groups: Vec<GroupJson<'a>>,
    totals: SummaryJson<'a>,
    unfinished: UnfinishedJson<'a>,
    undated_runs: u64,
}

#[derive(Serialize)]
struct GroupJson<'a> {
    kind: &'static str,
    name: &'a str,
    #[serde(flatten)]
    summary: SummaryJson<'a>,
}

#[derive(Serialize)]
struct SummaryJson<'a> {
    runs: u64,
    host_executions: u64,
    hosts_ok: u64,
    success_rate: Option<f64>,
    avg_duration_ms: Option<u64>,
    p95_duration_ms: Option<u64>,
    outcomes: BTreeMap<&'static str, u64>,
    failures: &'a BTreeMap<String, u64>,
}

#[derive(Serialize)]
struct UnfinishedJson<'a> {
    count: usize,
    run_ids: &'a [String],
}

impl<'a> SummaryJson<'a> {
    fn of(s: &'a Summary) -> Self {
        SummaryJson {
            runs: s.runs,
            host_executions: s.host_executions,
            hosts_ok: s.hosts_ok,
            success_rate: s.success_rate,
            avg_duration_ms: s.avg_duration_ms.map(round_ms),
            p95_duration_ms: s.p95_duration_ms,
            outcomes: s.outcomes.iter().map(|(o, n)| (o.as_str(), *n)).collect(),
            failures: &s.failures,
        }
    }
}

/// One JSON object and a newline.
pub fn render_json(stats: &RunStats, window: &Window) -> Result<String, Error> {
    let value = StatsJson {
        generated: rfc3339_millis(window.now),
        since: window.since.map(format_duration),
        from: window.from.map(rfc3339_millis),
        groups: stats
            .groups
            .iter()
            .map(|g| GroupJson {
                kind: g.subject.kind(),
                name: g.subject.name(),
                summary: SummaryJson::of(&g.summary),
            })
            .collect(),
        totals: SummaryJson::of(&stats.totals),
        unfinished: UnfinishedJson {
            count: stats.unfinished.len(),
            run_ids: &stats.unfinished,
        },
        undated_runs: stats.undated,
    };
    serde_json::to_string(&value)
        .map(|json| json_terminal_safe(json) + "\n")
        .map_err(|e| Error::Invalid(format!("cannot encode the statistics as JSON: {e}")))
}

/// A name on one table row: sanitized, its line breaks and tabs shown as `\n` and a space.
fn one_line(name: &str) -> String {
    clean(name).replace('\n', "\\n").replace('\t', " ")
}

/// Whole milliseconds, for people and JSON (averages are fractions).
fn round_ms(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 {
        ms.round() as u64
    } else {
        0
    }
}

fn when(t: OffsetDateTime) -> String {
    let text = rfc3339_millis(t);
    text.get(..19).unwrap_or(&text).replace('T', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::stats::{HostOutcome, Outcome, RunRecord, StatsBuilder, Subject};
    use time::macros::datetime;

    fn stats() -> RunStats {
        let mut b = StatsBuilder::new(None);
        let host = |outcome, detail: Option<&str>| HostOutcome {
            outcome,
            detail: detail.map(str::to_string),
        };
        b.add(&RunRecord {
            id: "1".into(),
            subject: Subject::Command("echo \u{1b}[2J hi".into()),
            started: Some(datetime!(2026-03-01 12:00 UTC)),
            duration_ms: Some(1500),
            hosts: vec![host(Outcome::Ok, None), host(Outcome::Failed, Some("exit"))],
        });
        b.audit_started("RUNNING", Some(datetime!(2026-03-01 12:00 UTC)));
        b.finish()
    }

    fn window() -> Window {
        Window {
            now: datetime!(2026-03-02 12:00 UTC),
            since: Some(Duration::from_secs(86_400)),
            from: Some(datetime!(2026-03-01 12:00 UTC)),
        }
    }

    #[test]
    fn the_table_has_a_row_per_group_a_total_and_the_unfinished_runs() {
        let text = render_table(&stats(), &window());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "runs started since 2026-03-01 12:00:00 UTC (last 1d)"
        );
        assert!(lines[1].starts_with("KIND"), "{text}");
        assert_eq!(
            lines[2]
                .split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>(),
            [
                "command",
                "echo ^[[2J hi",
                "1",
                "2",
                "50.0%",
                "1.5s",
                "1.5s",
                "failed:exit 1"
            ]
        );
        assert!(lines[3].starts_with("total "), "{text}");
        assert!(lines[4].starts_with("unfinished runs: 1 "), "{text}");
        assert!(!text.contains('\u{1b}'));
        assert_eq!(one_line("a\nb\tc"), "a\\nb c");
    }

    #[test]
    fn an_empty_window_says_so() {
        let text = render_table(&RunStats::default(), &window());
        assert!(text.contains("no runs recorded in that time"), "{text}");
        assert!(text.contains("unfinished runs: 0"), "{text}");
    }

    #[test]
    fn json_is_one_object_with_groups_totals_and_unfinished() {
        let text = render_json(&stats(), &window()).unwrap();
        assert!(text.ends_with('\n') && text.lines().count() == 1);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["since"], "1d");
        assert_eq!(v["from"], "2026-03-01T12:00:00.000Z");
        let g = &v["groups"][0];
        assert_eq!(g["kind"], "command");
        assert_eq!(
            g["name"], "echo \u{1b}[2J hi",
            "JSON keeps the text exactly"
        );
        assert_eq!(g["success_rate"], 0.5);
        assert_eq!(g["outcomes"]["failed"], 1);
        assert_eq!(g["failures"]["failed:exit"], 1);
        assert_eq!(v["totals"]["host_executions"], 2);
        assert_eq!(v["unfinished"]["count"], 1);
        assert_eq!(v["unfinished"]["run_ids"][0], "RUNNING");
        assert_eq!(v["undated_runs"], 0);

        let empty = render_json(&RunStats::default(), &window()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&empty).unwrap();
        assert_eq!(v["totals"]["runs"], 0);
        assert!(v["totals"]["success_rate"].is_null());
    }
}
