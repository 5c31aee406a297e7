//! What an observation means for the book, decided on the fold as it stands (pure: the book
//! calls this under its lock, after catching up with other writers, so two processes never
//! both open an incident for one dedup key).
//!
//! The rules an on-call engineer expects:
//! - firing, nothing active for the key: `opened`, unless the newest incident of the key was
//!   resolved less than `REOPEN_WINDOW` ago, then `reopened` (a flapping alert stays one
//!   incident, its count going up; a problem back next week is a new incident);
//! - firing, active incident, a newer firing than the book has (the source's `ts` moved on):
//!   `seen` with `refire: true` (count + 1);
//! - firing, active incident, the same firing (a poller seeing it again): nothing, except one
//!   `seen` per `SEEN_REFRESH` so `last_seen` stays current. A still-firing alert costs at
//!   most one line per `SEEN_REFRESH`, never a line per poll;
//! - cleared, active incident: `resolved` (by the source);
//! - anything older than what the book has from the source (a redelivered alert, two
//!   processes recording the same alert) or clearing what is not active: nothing.
//!
//! A person's resolve does not stop the source: the next *new* firing reopens it (within the
//! window), while the same firing seen again by a poller does not (its `ts` is not newer).

use std::time::Duration;

use time::OffsetDateTime;

use super::event::What;
use super::fold::Folded;
use super::model::{Observation, State};
use super::stamp;

/// A resolved incident that fires again within this is reopened rather than a new one.
pub const REOPEN_WINDOW: Duration = Duration::from_secs(60 * 60);
/// A still-firing incident's `last_seen` is refreshed in the book at most this often.
pub const SEEN_REFRESH: Duration = Duration::from_secs(15 * 60);

/// The line to write for `obs`: the incident id (`None`: a new one) and the event; `None`
/// when the observation tells the book nothing new.
pub fn observe(
    folded: &Folded,
    obs: &Observation,
    now: OffsetDateTime,
) -> Option<(Option<String>, What)> {
    let key = obs.key();
    if let Some(active) = folded.active(&key) {
        let order = active
            .source_ts
            .as_deref()
            .map_or(std::cmp::Ordering::Greater, |known| {
                stamp::cmp(&obs.ts, known)
            });
        if !obs.firing {
            // A clear older than the newest firing is a redelivery.
            return (!order.is_lt()).then(|| {
                (
                    Some(active.id.clone()),
                    What::Resolved {
                        who: None,
                        comment: None,
                        at: Some(obs.ts.clone()),
                    },
                )
            });
        }
        return match order {
            std::cmp::Ordering::Greater => Some((
                Some(active.id.clone()),
                What::Seen {
                    at: obs.ts.clone(),
                    refire: true,
                },
            )),
            std::cmp::Ordering::Equal
                if stamp::at_least_after(&active.last_seen, now, SEEN_REFRESH) =>
            {
                Some((
                    Some(active.id.clone()),
                    What::Seen {
                        at: obs.ts.clone(),
                        refire: false,
                    },
                ))
            }
            _ => None,
        };
    }
    if !obs.firing {
        return None;
    }
    if let Some(latest) = folded.latest(&key)
        && latest.state == State::Resolved
    {
        let stale = latest
            .source_ts
            .as_deref()
            .is_some_and(|known| !stamp::cmp(&obs.ts, known).is_gt());
        if stale {
            return None;
        }
        let recent = latest
            .resolved_at
            .as_deref()
            .is_some_and(|at| !stamp::at_least_after(at, now, REOPEN_WINDOW));
        if recent {
            return Some((
                Some(latest.id.clone()),
                What::Reopened {
                    at: obs.ts.clone(),
                    title: obs.title.clone(),
                    severity: obs.severity,
                    hosts: obs.hosts.clone(),
                },
            ));
        }
    }
    Some((
        None,
        What::Opened {
            source: obs.source,
            fingerprint: obs.fingerprint.clone(),
            title: obs.title.clone(),
            severity: obs.severity,
            hosts: obs.hosts.clone(),
            labels: obs.labels.clone(),
            annotations: obs.annotations.clone(),
            at: obs.ts.clone(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::event::Event;
    use crate::incident::model::{Severity, Source};

    fn obs(firing: bool, ts: &str) -> Observation {
        Observation {
            source: Source::Agent,
            fingerprint: "web01/nginx".into(),
            title: "nginx is not running".into(),
            severity: Severity::Critical,
            hosts: vec!["web01".into()],
            labels: Default::default(),
            annotations: Default::default(),
            firing,
            ts: ts.into(),
        }
    }

    fn at(text: &str) -> OffsetDateTime {
        stamp::parse(text).unwrap()
    }

    /// Decides and applies, like the book does; the event name written, if any.
    fn step(f: &mut Folded, o: &Observation, now: &str) -> Option<&'static str> {
        let (id, what) = observe(f, o, at(now))?;
        let name = what.name();
        let id = id.unwrap_or_else(|| format!("i{}", f.len()));
        f.apply(Event {
            v: Some(1),
            ts: now.to_string(),
            id,
            what,
        })
        .unwrap();
        Some(name)
    }

    #[test]
    fn a_poller_seeing_the_same_firing_writes_once_per_refresh() {
        let mut f = Folded::default();
        let firing = obs(true, "2026-12-07T10:00:00Z");
        assert_eq!(
            step(&mut f, &firing, "2026-12-07T10:00:01.000Z"),
            Some("opened")
        );
        // Every 30 s for 14 minutes: nothing.
        for n in 1..28 {
            let now = format!("2026-12-07T10:{:02}:{:02}.000Z", n / 2, (n % 2) * 30);
            assert_eq!(step(&mut f, &firing, &now), None, "{now}");
        }
        assert_eq!(
            step(&mut f, &firing, "2026-12-07T10:15:01.000Z"),
            Some("seen")
        );
        let i = f.iter().next().unwrap();
        assert_eq!(i.count, 1, "refreshing last_seen is not a new firing");
        assert_eq!(i.last_seen, "2026-12-07T10:15:01.000Z");
    }

    #[test]
    fn a_newer_firing_counts_and_a_redelivery_does_nothing() {
        let mut f = Folded::default();
        step(
            &mut f,
            &obs(true, "2026-12-07T10:00:00Z"),
            "2026-12-07T10:00:01.000Z",
        );
        assert_eq!(
            step(
                &mut f,
                &obs(true, "2026-12-07T10:05:00Z"),
                "2026-12-07T10:05:01.000Z"
            ),
            Some("seen")
        );
        assert_eq!(f.iter().next().unwrap().count, 2);
        // The first alert again (an agent resending after a lost ack): nothing.
        assert_eq!(
            step(
                &mut f,
                &obs(true, "2026-12-07T10:00:00Z"),
                "2026-12-07T10:06:00.000Z"
            ),
            None
        );
        // A clear older than the newest firing: nothing; a newer one resolves.
        assert_eq!(
            step(
                &mut f,
                &obs(false, "2026-12-07T10:04:00Z"),
                "2026-12-07T10:06:00.000Z"
            ),
            None
        );
        assert_eq!(
            step(
                &mut f,
                &obs(false, "2026-12-07T10:06:00Z"),
                "2026-12-07T10:06:01.000Z"
            ),
            Some("resolved")
        );
        // Clearing again, or clearing what was never open: nothing.
        assert_eq!(
            step(
                &mut f,
                &obs(false, "2026-12-07T10:07:00Z"),
                "2026-12-07T10:07:01.000Z"
            ),
            None
        );
        let mut other = obs(false, "2026-12-07T10:07:00Z");
        other.fingerprint = "web02/nginx".into();
        assert_eq!(step(&mut f, &other, "2026-12-07T10:07:01.000Z"), None);
    }

    #[test]
    fn firing_after_resolution_reopens_within_the_window_else_opens_anew() {
        let mut f = Folded::default();
        step(
            &mut f,
            &obs(true, "2026-12-07T10:00:00Z"),
            "2026-12-07T10:00:01.000Z",
        );
        step(
            &mut f,
            &obs(false, "2026-12-07T10:01:00Z"),
            "2026-12-07T10:01:01.000Z",
        );
        // The firing that was resolved, seen again: stays resolved.
        assert_eq!(
            step(
                &mut f,
                &obs(true, "2026-12-07T10:00:00Z"),
                "2026-12-07T10:02:00.000Z"
            ),
            None
        );
        assert_eq!(
            step(
                &mut f,
                &obs(true, "2026-12-07T10:10:00Z"),
                "2026-12-07T10:10:01.000Z"
            ),
            Some("reopened")
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f.iter().next().unwrap().count, 2);
        step(
            &mut f,
            &obs(false, "2026-12-07T10:11:00Z"),
            "2026-12-07T10:11:01.000Z",
        );
        assert_eq!(
            step(
                &mut f,
                &obs(true, "2026-12-07T12:00:00Z"),
                "2026-12-07T12:00:01.000Z"
            ),
            Some("opened")
        );
        assert_eq!(f.len(), 2);
    }

    #[test]
    fn a_person_resolving_a_firing_alert_holds_until_a_new_firing() {
        let mut f = Folded::default();
        let firing = obs(true, "2026-12-07T10:00:00Z");
        step(&mut f, &firing, "2026-12-07T10:00:01.000Z");
        let id = f.iter().next().unwrap().id.clone();
        f.apply(Event {
            v: Some(1),
            ts: "2026-12-07T10:00:30.000Z".into(),
            id,
            what: What::Resolved {
                who: Some("ops@m".into()),
                comment: None,
                at: None,
            },
        })
        .unwrap();
        assert_eq!(step(&mut f, &firing, "2026-12-07T10:01:00.000Z"), None);
        assert_eq!(
            step(
                &mut f,
                &obs(true, "2026-12-07T10:02:00Z"),
                "2026-12-07T10:02:01.000Z"
            ),
            Some("reopened")
        );
    }
}
