//! Asking the optional `[analysis]` endpoint about an incident: the session gathers what the
//! question may carry (the incident's facts, the newest metric sample of each of its hosts,
//! the first error lines of recent runs on them, the alert's own excerpt), the client redacts
//! it (built-in patterns, `[analysis] redact`, and every agent token the inventory points
//! at), and the answer is written on the timeline as a suggestion with the model's name,
//! through the same audited write as a note. Nothing here runs anything.

use std::collections::BTreeSet;
use std::time::SystemTime;

use super::FleetSession;
use super::incident_ops::{Act, IncidentOpError, IncidentWritten};
use crate::engine::RunResult;
use crate::incident::Incident;
use crate::incident::analysis::{AnalysisClient, AnalysisInput};
use crate::inventory::Host;
use crate::metrics::MetricsFrame;
use crate::store::read_newest_as;
use crate::transport::agent::Endpoint;

/// Runs read back from history.jsonl for their error lines.
const RECENT_RUNS: usize = 50;
/// Error lines and sample lines sent, at most (the prompt bounds them again).
const MAX_LINES: usize = 40;
/// Annotations that carry an alert's log excerpt or description, in the order joined.
const EXCERPT_KEYS: [&str; 4] = ["detail", "log", "description", "message"];

/// What the console asks (`A` in the Incidents view): the incident, the runbook's hint and the
/// action names the answer may suggest; the session adds the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisAsk {
    /// The incident (a unique prefix of its id).
    pub id: String,
    pub hint: Option<String>,
    pub actions: Vec<String>,
}

impl FleetSession {
    /// Asks `[analysis]` about the incident and writes the answer on its timeline. Errors:
    /// analysis off, the endpoint down, slow, refusing or answering garbage; nothing is
    /// written then (the runbook's hint stands).
    pub async fn analyse_incident(
        &self,
        ask: AnalysisAsk,
    ) -> Result<IncidentWritten, IncidentOpError> {
        let incident = self.find_incident(&ask.id).await?;
        let hosts = self.inner.view.hosts().clone();
        let home = self.inner.home.clone();
        let mine = incident.hosts.clone();
        let (run_errors, secrets) = tokio::task::spawn_blocking(move || {
            let history = home.history_file();
            (
                run_errors(&history, &mine),
                agent_tokens(&hosts, &home.config_dir),
            )
        })
        .await
        .map_err(|e| IncidentOpError::Stopped(e.to_string()))?;
        let client = AnalysisClient::new(&self.inner.analysis, secrets.iter().map(String::as_str))
            .map_err(|e| IncidentOpError::Analysis(e.to_string()))?;
        let input = AnalysisInput {
            incident: incident.facts(),
            hint: ask.hint,
            samples: samples(
                &self.inner.view.metrics(),
                &incident.hosts,
                SystemTime::now(),
            ),
            run_errors,
            log_excerpt: excerpt(&incident),
            actions: ask.actions,
        };
        let analysis = client
            .analyse(&input)
            .await
            .map_err(|e| IncidentOpError::Analysis(e.to_string()))?;
        let act = Act::Analysis(crate::incident::Analysis {
            who: Some(crate::config::current_user()),
            model: Some(analysis.model),
            text: analysis.text,
            action: analysis.suggested_action,
        });
        self.write_incident(incident.id, act).await
    }
}

/// The newest sample of each host that has one: `web01 cpu 93% mem 41% disk 97% load 3.20
/// (agent, 4s ago)`.
fn samples(frame: &MetricsFrame, hosts: &[String], now: SystemTime) -> Vec<String> {
    let pct = |name: &str, v: Option<f64>| v.map(|v| format!(" {name} {v:.0}%"));
    hosts
        .iter()
        .filter_map(|h| {
            let s = frame.host(h)?.latest.as_ref()?;
            let mut line = h.clone();
            for part in [
                pct("cpu", s.cpu_pct),
                pct("mem", s.mem_pct),
                pct("disk", s.disk_pct),
                s.load1.map(|l| format!(" load {l:.2}")),
            ]
            .into_iter()
            .flatten()
            {
                line.push_str(&part);
            }
            let age = now.duration_since(s.ts).unwrap_or_default().as_secs();
            line.push_str(&format!(" ({}, {age}s ago)", s.source.as_str()));
            Some(line)
        })
        .take(MAX_LINES)
        .collect()
}

/// The first error line of each host of the newest runs on `hosts` that did not end ok,
/// newest first. An unreadable history gives none (the question goes without them).
fn run_errors(history: &std::path::Path, hosts: &[String]) -> Vec<String> {
    let report = match read_newest_as::<RunResult>(history, RECENT_RUNS) {
        Ok(report) => report,
        Err(e) => {
            tracing::warn!(error = %e, "history not read for the analysis");
            return Vec::new();
        }
    };
    let mut lines = Vec::new();
    for (_, run) in &report.records {
        for h in run.hosts.iter().filter(|h| hosts.contains(&h.host)) {
            if let Some(line) = h.first_error_line.as_deref().filter(|l| !l.is_empty()) {
                lines.push(format!(
                    "run {} `{}` on {} ({}): {line}",
                    run.id,
                    run.command,
                    h.host,
                    h.state.label()
                ));
            }
        }
        if lines.len() >= MAX_LINES {
            break;
        }
    }
    lines.truncate(MAX_LINES);
    lines
}

/// The alert's own words: its detail, log excerpt or description annotations.
fn excerpt(incident: &Incident) -> String {
    EXCERPT_KEYS
        .iter()
        .filter_map(|k| incident.annotations.get(*k))
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every agent token the inventory's hosts point at (exec and read), to be redacted from
/// whatever is sent; each file read once, unreadable ones skipped.
fn agent_tokens(hosts: &[Host], base_dir: &std::path::Path) -> Vec<String> {
    let mut files = BTreeSet::new();
    for host in hosts.iter().filter(|h| h.agent.is_some()) {
        if let Ok(endpoint) = Endpoint::resolve(host, base_dir) {
            files.extend(endpoint.token_file);
            files.extend(endpoint.read_token_file);
        }
    }
    files
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .filter_map(|text| text.lines().next().map(|l| l.trim().to_string()))
        .filter(|t| !t.is_empty())
        .collect()
}
