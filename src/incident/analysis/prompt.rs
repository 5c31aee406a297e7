//! What is asked: a neutral [`AnalysisInput`] (the incident and its context, gathered by the
//! caller) turned into a chat-completions request body, every text redacted and each part
//! bounded so a flooding log cannot make the request huge.

use serde_json::{Value, json};

use super::redact::Redactor;
use crate::incident::facts::IncidentFacts;

/// At most this many characters of the log excerpt are sent (its end: the newest lines).
pub const MAX_LOG_CHARS: usize = 8_000;
/// At most this many sample lines and error lines.
pub const MAX_LINES: usize = 40;
/// At most this many characters per line.
pub const MAX_LINE_CHARS: usize = 300;

/// Everything the analysis may be told about an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisInput {
    pub incident: IncidentFacts,
    /// The rule-based hint, if a runbook matched (the model may build on it).
    pub hint: Option<String>,
    /// Recent metric samples of its hosts, one line each (`web01 cpu 93% mem 41% disk 97%`).
    pub samples: Vec<String>,
    /// First error lines of recent runs on its hosts (`run 01J… on web01: …`).
    pub run_errors: Vec<String>,
    /// The alert's log excerpt.
    pub log_excerpt: String,
    /// Action templates that exist; the answer may name one.
    pub actions: Vec<String>,
}

const SYSTEM: &str = "You help an on-call engineer with an incident on a fleet of Linux hosts. \
Say briefly what most likely happened and what to check or do next, in plain text (no \
markdown tables). If one of the available actions fits, name it exactly as listed, in \
backticks. You cannot run anything; the engineer decides. Values shown as [redacted] were \
removed on purpose: do not ask for them.";

/// The request body for `model`.
pub fn request_body(model: &str, input: &AnalysisInput, redactor: &Redactor) -> Value {
    json!({
        "model": model,
        "stream": false,
        "temperature": 0.2,
        "messages": [
            { "role": "system", "content": SYSTEM },
            { "role": "user", "content": user_message(input, redactor) },
        ],
    })
}

/// The incident as text, redacted. Each value is redacted before it is cut to length (a cut
/// could leave half a secret no pattern recognises), and each line again after.
pub fn user_message(input: &AnalysisInput, redactor: &Redactor) -> String {
    let f = &input.incident;
    let clip = |s: &str, max: usize| clip(&redactor.redact(s), max);
    let mut text = String::new();
    let mut line = |s: String| {
        text.push_str(&redactor.redact(&s));
        text.push('\n');
    };
    line(format!("Incident: {}", clip(&f.title, MAX_LINE_CHARS)));
    line(format!("Severity: {}  Source: {}", f.severity, f.source));
    line(format!(
        "Hosts: {}",
        clip(
            &crate::inventory::nodeset::fold(f.hosts.iter().map(String::as_str)),
            MAX_LINE_CHARS
        )
    ));
    for (title, map) in [("Labels", &f.labels), ("Annotations", &f.annotations)] {
        if !map.is_empty() {
            line(format!("{title}:"));
            for (k, v) in map.iter().take(MAX_LINES) {
                line(format!("  {}={}", clip(k, 100), clip(v, MAX_LINE_CHARS)));
            }
        }
    }
    if let Some(hint) = &input.hint {
        line(format!("Runbook hint: {}", clip(hint, MAX_LINE_CHARS * 2)));
    }
    for (title, lines) in [
        ("Recent metric samples", &input.samples),
        ("First error lines of recent runs", &input.run_errors),
    ] {
        if !lines.is_empty() {
            line(format!("{title}:"));
            for l in lines.iter().take(MAX_LINES) {
                line(format!("  {}", clip(l, MAX_LINE_CHARS)));
            }
        }
    }
    if !input.log_excerpt.trim().is_empty() {
        line("Log excerpt:".to_string());
        line(tail(&redactor.redact(&input.log_excerpt), MAX_LOG_CHARS).to_string());
    }
    if !input.actions.is_empty() {
        line(format!(
            "Available actions: {}",
            clip(&input.actions.join(", "), MAX_LOG_CHARS)
        ));
    }
    text
}

/// At most `max` characters of `s`, marked when cut.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The last `max` characters of `s`.
fn tail(s: &str, max: usize) -> &str {
    let count = s.chars().count();
    if count <= max {
        return s;
    }
    let skip = count - max;
    s.char_indices().nth(skip).map_or(s, |(i, _)| &s[i..])
}
