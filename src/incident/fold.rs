//! The pure fold: events (oldest first) → incidents. No I/O and no clock: the same events
//! always give the same incidents, whichever process reads them. Linear in the number of
//! events (each is one hash lookup and a bounded timeline update).

use std::collections::HashMap;

use super::event::{BOOK_VERSION, Event, What};
use super::model::{DedupKey, Incident, State, TimelineEntry};

/// Timeline entries kept per incident; beyond it the oldest `seen` entries go first, then
/// the oldest entries after the opening (counted in `Incident::timeline_dropped`).
pub const MAX_TIMELINE: usize = 200;

/// Every incident the events describe, with indexes by dedup key.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    incidents: HashMap<String, Incident>,
    /// The active (open or acked) incident of each key.
    active: HashMap<DedupKey, String>,
    /// The newest incident of each key, active or not (what a new firing may reopen).
    latest: HashMap<DedupKey, String>,
}

impl Folded {
    /// Applies one event. An event that cannot apply (an id never opened, an id opened twice,
    /// a newer schema) changes nothing and says why; the caller reports it with its line.
    pub fn apply(&mut self, event: Event) -> Result<(), String> {
        if let Some(v) = event.v
            && v != BOOK_VERSION
        {
            return Err(format!(
                "schema version {v} (this fleetdeck reads {BOOK_VERSION}); skipped"
            ));
        }
        let Event { ts, id, what, .. } = event;
        match what {
            What::Opened {
                source,
                fingerprint,
                title,
                severity,
                hosts,
                labels,
                annotations,
                at,
            } => {
                if self.incidents.contains_key(&id) {
                    return Err(format!("incident {id} is opened a second time; skipped"));
                }
                let incident = Incident {
                    id: id.clone(),
                    source,
                    fingerprint,
                    title,
                    severity,
                    hosts,
                    labels,
                    annotations,
                    state: State::Open,
                    count: 1,
                    first_seen: ts.clone(),
                    last_seen: ts.clone(),
                    source_ts: Some(at),
                    resolved_at: None,
                    timeline: vec![entry(&ts, "opened", None, None)],
                    timeline_dropped: 0,
                };
                self.index(&incident);
                self.incidents.insert(id, incident);
                Ok(())
            }
            What::Carried { incident } => {
                let mut incident = *incident;
                incident.id = id.clone();
                self.index(&incident);
                self.incidents.insert(id, incident);
                Ok(())
            }
            what => {
                let Some(incident) = self.incidents.get_mut(&id) else {
                    return Err(format!(
                        "`{}` for incident {id}, which was never opened (in an older file \
                         that is gone?); skipped",
                        what.name()
                    ));
                };
                let became = update(incident, &ts, what);
                let key = incident.key();
                match became {
                    Some(State::Resolved) if self.active.get(&key) == Some(&id) => {
                        self.active.remove(&key);
                    }
                    Some(State::Resolved) | None => {}
                    Some(_) => {
                        self.active.insert(key, id);
                    }
                }
                Ok(())
            }
        }
    }

    fn index(&mut self, incident: &Incident) {
        let key = incident.key();
        if incident.state.is_active() {
            self.active.insert(key.clone(), incident.id.clone());
        } else if self.active.get(&key) == Some(&incident.id) {
            self.active.remove(&key);
        }
        let newer = self
            .latest
            .get(&key)
            .and_then(|id| self.incidents.get(id))
            .is_none_or(|known| known.id == incident.id || known.first_seen <= incident.first_seen);
        if newer {
            self.latest.insert(key, incident.id.clone());
        }
    }

    pub fn get(&self, id: &str) -> Option<&Incident> {
        self.incidents.get(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.incidents.contains_key(id)
    }

    /// The active incident of `key`.
    pub fn active(&self, key: &DedupKey) -> Option<&Incident> {
        self.active.get(key).and_then(|id| self.incidents.get(id))
    }

    /// The newest incident of `key`, whatever its state.
    pub fn latest(&self, key: &DedupKey) -> Option<&Incident> {
        self.latest.get(key).and_then(|id| self.incidents.get(id))
    }

    pub fn len(&self) -> usize {
        self.incidents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.incidents.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.values()
    }

    /// Newest first: by `last_seen`, then id (a stable order for equal times).
    pub fn newest_first(&self, include_resolved: bool) -> Vec<&Incident> {
        let mut list: Vec<&Incident> = self
            .incidents
            .values()
            .filter(|i| include_resolved || i.state.is_active())
            .collect();
        list.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.id.cmp(&b.id)));
        list
    }
}

/// Applies a non-opening event to `incident`; the state it moved to, if it changed.
fn update(incident: &mut Incident, ts: &str, what: What) -> Option<State> {
    let before = incident.state;
    let name = what.name();
    let timeline = match what {
        What::Seen { at, refire } => {
            incident.last_seen = ts.to_string();
            if refire {
                incident.count += 1;
            }
            newer_source_ts(incident, at);
            entry(ts, name, None, None)
        }
        What::Acked { who, comment } => {
            if incident.state == State::Open {
                incident.state = State::Acked;
            }
            entry(ts, name, Some(who), comment)
        }
        What::Note { who, text } => entry(ts, name, Some(who), Some(text)),
        What::Analysis {
            who,
            model,
            text,
            action,
        } => {
            let mut shown = match model {
                Some(model) => format!("suggestion from {model}: {text}"),
                None => format!("suggestion: {text}"),
            };
            if let Some(action) = action {
                shown.push_str(&format!(" (action: {action})"));
            }
            entry(ts, name, who, Some(shown))
        }
        What::ActionRun {
            who,
            run_id,
            result,
        } => {
            let mut e = entry(ts, name, who, Some(result));
            e.run_id = Some(run_id);
            e
        }
        What::Resolved { who, comment, at } => {
            incident.state = State::Resolved;
            incident.resolved_at = Some(ts.to_string());
            if let Some(at) = at {
                newer_source_ts(incident, at);
            }
            let text = match (&who, comment) {
                (None, None) => Some("cleared at the source".to_string()),
                (_, comment) => comment,
            };
            entry(ts, name, who, text)
        }
        What::Reopened {
            at,
            title,
            severity,
            hosts,
        } => {
            incident.state = State::Open;
            incident.count += 1;
            incident.last_seen = ts.to_string();
            incident.resolved_at = None;
            incident.title = title;
            incident.severity = severity;
            incident.hosts = hosts;
            newer_source_ts(incident, at);
            entry(ts, name, None, None)
        }
        // Handled by the caller.
        What::Opened { .. } | What::Carried { .. } => return None,
    };
    push_timeline(incident, timeline);
    (incident.state != before).then_some(incident.state)
}

fn newer_source_ts(incident: &mut Incident, at: String) {
    let newer = incident
        .source_ts
        .as_deref()
        .is_none_or(|known| super::stamp::cmp(&at, known).is_gt());
    if newer {
        incident.source_ts = Some(at);
    }
}

fn entry(ts: &str, event: &str, who: Option<String>, text: Option<String>) -> TimelineEntry {
    TimelineEntry {
        ts: ts.to_string(),
        event: event.to_string(),
        who,
        text,
        run_id: None,
    }
}

/// Appends, keeping at most `MAX_TIMELINE` entries: the oldest `seen` goes first, else the
/// oldest after the opening.
fn push_timeline(incident: &mut Incident, e: TimelineEntry) {
    incident.timeline.push(e);
    if incident.timeline.len() <= MAX_TIMELINE {
        return;
    }
    let victim = incident
        .timeline
        .iter()
        .position(|t| t.event == "seen")
        .unwrap_or(1.min(incident.timeline.len() - 1));
    incident.timeline.remove(victim);
    incident.timeline_dropped += 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::model::{Severity, Source};

    fn ev(ts: &str, id: &str, what: What) -> Event {
        Event {
            v: Some(1),
            ts: ts.to_string(),
            id: id.to_string(),
            what,
        }
    }

    fn opened(fp: &str) -> What {
        What::Opened {
            source: Source::Agent,
            fingerprint: fp.to_string(),
            title: "nginx is not running".to_string(),
            severity: Severity::Critical,
            hosts: vec!["web01".to_string()],
            labels: [("watcher".to_string(), "nginx".to_string())].into(),
            annotations: Default::default(),
            at: "2026-12-07T10:00:00Z".to_string(),
        }
    }

    fn key(fp: &str) -> DedupKey {
        DedupKey {
            source: Source::Agent,
            fingerprint: fp.to_string(),
        }
    }

    #[test]
    fn a_life_open_ack_note_resolve_reopen() {
        let mut f = Folded::default();
        f.apply(ev("2026-12-07T10:00:01.000Z", "a1", opened("web01/nginx")))
            .unwrap();
        let i = f.get("a1").unwrap();
        assert_eq!((i.state, i.count), (State::Open, 1));
        assert_eq!(
            f.active(&key("web01/nginx")).map(|i| i.id.as_str()),
            Some("a1")
        );

        f.apply(ev(
            "2026-12-07T10:01:00.000Z",
            "a1",
            What::Seen {
                at: "2026-12-07T10:00:50Z".into(),
                refire: true,
            },
        ))
        .unwrap();
        f.apply(ev(
            "2026-12-07T10:02:00.000Z",
            "a1",
            What::Acked {
                who: "ops@m".into(),
                comment: Some("looking".into()),
            },
        ))
        .unwrap();
        f.apply(ev(
            "2026-12-07T10:03:00.000Z",
            "a1",
            What::Note {
                who: "ops@m".into(),
                text: "restarted".into(),
            },
        ))
        .unwrap();
        let i = f.get("a1").unwrap();
        assert_eq!((i.state, i.count), (State::Acked, 2));
        assert_eq!(i.last_seen, "2026-12-07T10:01:00.000Z");
        assert_eq!(i.first_seen, "2026-12-07T10:00:01.000Z");
        assert_eq!(i.source_ts.as_deref(), Some("2026-12-07T10:00:50Z"));

        f.apply(ev(
            "2026-12-07T10:04:00.000Z",
            "a1",
            What::Resolved {
                who: None,
                comment: None,
                at: Some("2026-12-07T10:03:59Z".into()),
            },
        ))
        .unwrap();
        assert!(f.active(&key("web01/nginx")).is_none());
        assert_eq!(f.latest(&key("web01/nginx")).unwrap().id, "a1");
        assert_eq!(
            f.get("a1").unwrap().resolved_at.as_deref(),
            Some("2026-12-07T10:04:00.000Z")
        );

        f.apply(ev(
            "2026-12-07T10:05:00.000Z",
            "a1",
            What::Reopened {
                at: "2026-12-07T10:04:59Z".into(),
                title: "nginx is gone again".into(),
                severity: Severity::Warning,
                hosts: vec!["web01".into()],
            },
        ))
        .unwrap();
        let i = f.get("a1").unwrap();
        assert_eq!((i.state, i.count), (State::Open, 3));
        assert_eq!(i.title, "nginx is gone again");
        assert!(i.resolved_at.is_none());
        let events: Vec<&str> = i.timeline.iter().map(|t| t.event.as_str()).collect();
        assert_eq!(
            events,
            ["opened", "seen", "acked", "note", "resolved", "reopened"]
        );
        assert_eq!(i.timeline[4].text.as_deref(), Some("cleared at the source"));
    }

    #[test]
    fn events_that_cannot_apply_are_refused_and_change_nothing() {
        let mut f = Folded::default();
        let err = f
            .apply(ev(
                "2026-12-07T10:00:00.000Z",
                "zz",
                What::Note {
                    who: "x".into(),
                    text: "y".into(),
                },
            ))
            .unwrap_err();
        assert!(err.contains("never opened"), "{err}");
        f.apply(ev("2026-12-07T10:00:00.000Z", "a1", opened("k")))
            .unwrap();
        let err = f
            .apply(ev("2026-12-07T10:00:01.000Z", "a1", opened("k")))
            .unwrap_err();
        assert!(err.contains("second time"), "{err}");
        let mut newer = ev("2026-12-07T10:00:00.000Z", "b1", opened("j"));
        newer.v = Some(9);
        assert!(f.apply(newer).unwrap_err().contains("schema version 9"));
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn a_carried_incident_replaces_what_was_known() {
        let mut f = Folded::default();
        f.apply(ev("2026-12-07T10:00:00.000Z", "a1", opened("k")))
            .unwrap();
        let mut snapshot = f.get("a1").unwrap().clone();
        snapshot.state = State::Resolved;
        snapshot.count = 7;
        f.apply(ev(
            "2026-12-07T11:00:00.000Z",
            "a1",
            What::Carried {
                incident: Box::new(snapshot),
            },
        ))
        .unwrap();
        assert_eq!(f.get("a1").unwrap().count, 7);
        assert!(f.active(&key("k")).is_none());
        // Carried alone (the file that opened it is gone) is enough.
        let mut g = Folded::default();
        let carried = f.get("a1").unwrap().clone();
        g.apply(ev(
            "2026-12-07T11:00:00.000Z",
            "a1",
            What::Carried {
                incident: Box::new(carried),
            },
        ))
        .unwrap();
        assert_eq!(g.latest(&key("k")).unwrap().count, 7);
    }

    #[test]
    fn the_timeline_stays_bounded_keeping_the_opening() {
        let mut f = Folded::default();
        f.apply(ev("2026-12-07T10:00:00.000Z", "a1", opened("k")))
            .unwrap();
        for n in 0..(MAX_TIMELINE * 2) {
            let what = if n % 2 == 0 {
                What::Seen {
                    at: "2026-12-07T10:00:00Z".into(),
                    refire: false,
                }
            } else {
                What::Note {
                    who: "x".into(),
                    text: format!("{n}"),
                }
            };
            f.apply(ev("2026-12-07T10:00:01.000Z", "a1", what)).unwrap();
        }
        let i = f.get("a1").unwrap();
        assert_eq!(i.timeline.len(), MAX_TIMELINE);
        assert_eq!(i.timeline[0].event, "opened");
        assert_eq!(i.timeline_dropped, (MAX_TIMELINE + 1) as u64);
        // Every `seen` went first, then the oldest note after the opening.
        assert!(i.timeline.iter().all(|t| t.event != "seen"));
        assert_eq!(
            i.timeline.iter().filter(|t| t.event == "note").count(),
            MAX_TIMELINE - 1
        );
        assert_eq!(i.timeline[1].text.as_deref(), Some("3"));
    }

    #[test]
    fn newest_first_lists_active_unless_all() {
        let mut f = Folded::default();
        f.apply(ev("2026-12-07T10:00:00.000Z", "a1", opened("k1")))
            .unwrap();
        f.apply(ev("2026-12-07T10:00:02.000Z", "b2", opened("k2")))
            .unwrap();
        f.apply(ev(
            "2026-12-07T10:00:03.000Z",
            "a1",
            What::Resolved {
                who: Some("ops".into()),
                comment: None,
                at: None,
            },
        ))
        .unwrap();
        let ids = |all| {
            f.newest_first(all)
                .iter()
                .map(|i| i.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(false), ["b2"]);
        assert_eq!(ids(true), ["b2", "a1"]);
    }
}
