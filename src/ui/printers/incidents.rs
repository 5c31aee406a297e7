//! `fleetdeck incidents`: the list, one incident with its timeline, and their JSON. Every
//! text in an incident comes from a source (an agent's watcher, an alert's labels) or a
//! person: all of it is shown sanitized (no control characters reach the terminal), and
//! JSON is made terminal-safe.

use std::collections::BTreeMap;

use serde::Serialize;

use super::history::{shorten, when};
use super::sanitize::{json_terminal_safe, sanitize};
use super::table;
use crate::diag::Error;
use crate::incident::Incident;
use crate::inventory::nodeset::fold;

/// Longest title in the list (`incidents show` has it whole).
const MAX_TITLE_CHARS: usize = 70;
/// Longest folded host set in the list.
const MAX_HOSTS_CHARS: usize = 40;

/// One line of `incidents --json`.
#[derive(Serialize)]
struct ListLine<'a> {
    id: &'a str,
    state: &'a str,
    severity: &'a str,
    source: &'a str,
    title: &'a str,
    hosts: &'a [String],
    count: u64,
    first_seen: &'a str,
    last_seen: &'a str,
    labels: &'a BTreeMap<String, String>,
    fingerprint: &'a str,
    annotations: &'a BTreeMap<String, String>,
}

/// One line of text made safe for a table cell: controls shown visibly, line breaks and tabs
/// as spaces.
fn cell(text: &str) -> String {
    sanitize(text.as_bytes(), false).replace(['\n', '\t'], " ")
}

/// Newest first, as given: ID, STATE, SEVERITY, SOURCE, COUNT, LAST SEEN (UTC), HOSTS, TITLE.
pub fn render_list(incidents: &[&Incident], all: bool) -> String {
    if incidents.is_empty() {
        return if all {
            "no incidents in the book\n".to_string()
        } else {
            "no open incidents (fleetdeck incidents --all lists resolved ones too)\n".to_string()
        };
    }
    let rows: Vec<Vec<String>> = incidents
        .iter()
        .map(|i| {
            vec![
                i.id.clone(),
                i.state.to_string(),
                i.severity.to_string(),
                i.source.to_string(),
                i.count.to_string(),
                when(&i.last_seen),
                shorten(&cell(&hosts(i)), MAX_HOSTS_CHARS),
                shorten(&cell(&i.title), MAX_TITLE_CHARS),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "STATE",
            "SEVERITY",
            "SOURCE",
            "COUNT",
            "LAST SEEN (UTC)",
            "HOSTS",
            "TITLE",
        ],
        &rows,
    )
}

/// One incident per line, newest first.
pub fn render_list_json(incidents: &[&Incident]) -> Result<String, Error> {
    let mut out = String::new();
    for i in incidents {
        let line = ListLine {
            id: &i.id,
            state: i.state.as_str(),
            severity: i.severity.as_str(),
            source: i.source.as_str(),
            title: &i.title,
            hosts: &i.hosts,
            count: i.count,
            first_seen: &i.first_seen,
            last_seen: &i.last_seen,
            labels: &i.labels,
            fingerprint: &i.fingerprint,
            annotations: &i.annotations,
        };
        out.push_str(&to_json(&line)?);
        out.push('\n');
    }
    Ok(out)
}

/// The incident, its labels and annotations, then its timeline oldest first.
pub fn render_show(i: &Incident) -> String {
    let mut out = format!(
        "incident {}  {}  {}  from {}\n",
        i.id, i.state, i.severity, i.source
    );
    out.push_str(&format!("title:       {}\n", cell(&i.title)));
    out.push_str(&format!("hosts:       {}\n", cell(&hosts(i))));
    out.push_str(&format!("fingerprint: {}\n", cell(&i.fingerprint)));
    out.push_str(&format!(
        "fired:       {} time(s), first {} UTC, last {} UTC\n",
        i.count,
        when(&i.first_seen),
        when(&i.last_seen)
    ));
    for (name, map) in [("labels", &i.labels), ("annotations", &i.annotations)] {
        if map.is_empty() {
            continue;
        }
        out.push_str(&format!("{name}:\n"));
        for (k, v) in map {
            out.push_str(&format!("  {}={}\n", cell(k), cell(v)));
        }
    }
    out.push_str("timeline (UTC):\n");
    if i.timeline_dropped > 0 {
        out.push_str(&format!(
            "  … {} older entries not kept\n",
            i.timeline_dropped
        ));
    }
    for t in &i.timeline {
        let mut line = format!("  {}  {:<10}", when(&t.ts), t.event);
        if let Some(who) = &t.who {
            line.push_str(&format!("  by {}", cell(who)));
        }
        if let Some(run) = &t.run_id {
            line.push_str(&format!("  run {}", cell(run)));
        }
        if let Some(text) = &t.text {
            line.push_str(&format!("  {}", cell(text)));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The whole incident, timeline included, as one JSON object.
pub fn render_show_json(i: &Incident) -> Result<String, Error> {
    Ok(to_json(i)? + "\n")
}

fn hosts(i: &Incident) -> String {
    if i.hosts.is_empty() {
        "-".to_string()
    } else {
        fold(i.hosts.iter().map(String::as_str))
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value)
        .map(json_terminal_safe)
        .map_err(|e| Error::Invalid(format!("cannot encode incidents as JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::{Severity, Source, State, TimelineEntry};

    fn incident() -> Incident {
        Incident {
            id: "k3f9x2ab".into(),
            source: Source::Agent,
            fingerprint: "web01/nginx".into(),
            title: "nginx \u{1b}]0;pwned\u{7} is down\nreally".into(),
            severity: Severity::Critical,
            hosts: vec!["web01".into(), "web02".into()],
            labels: BTreeMap::from([("watcher".into(), "ng\u{9b}inx".into())]),
            annotations: BTreeMap::new(),
            state: State::Acked,
            count: 2,
            first_seen: "2026-12-07T10:00:00.000Z".into(),
            last_seen: "2026-12-07T10:05:00.000Z".into(),
            source_ts: None,
            resolved_at: None,
            timeline: vec![TimelineEntry {
                ts: "2026-12-07T10:01:00.000Z".into(),
                event: "acked".into(),
                who: Some("ops@m".into()),
                text: Some("on it\u{1b}[2J".into()),
                run_id: None,
            }],
            timeline_dropped: 0,
        }
    }

    #[test]
    fn hostile_text_never_reaches_the_terminal_raw() {
        let i = incident();
        let list = render_list(&[&i], false);
        let show = render_show(&i);
        let json = render_list_json(&[&i]).unwrap() + &render_show_json(&i).unwrap();
        for text in [&list, &show, &json] {
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{text:?}"
            );
        }
        assert!(list.contains("web[01-02]"), "{list}");
        assert!(list.contains("nginx ^[]0;pwned^G is down really"), "{list}");
        assert_eq!(list.lines().count(), 2);
        assert!(show.contains("by ops@m  on it^[[2J"), "{show}");
        let back: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
        assert_eq!(back["labels"]["watcher"], "ng\u{9b}inx");
        assert_eq!(back["state"], "acked");
        assert_eq!(back["hosts"][1], "web02");
    }

    #[test]
    fn empty_lists_say_what_to_do() {
        assert!(render_list(&[], false).contains("--all"));
        assert_eq!(render_list(&[], true), "no incidents in the book\n");
    }
}
