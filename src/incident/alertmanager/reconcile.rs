//! From one poll to the next: which alerts started firing and which resolved. Pure (the caller
//! passes the alerts, the host index and the time), so every case is a unit test.
//!
//! - An alert whose fingerprint was not firing at the previous poll fires.
//! - An alert that was firing resolves when it is missing from this poll (Alertmanager drops
//!   resolved alerts from its list) or when its `endsAt` has passed.
//! - An alert whose `startsAt` changed resolved and fired again between two polls: both.
//! - A failed poll is not a poll: the caller does not call [`Reconciler::observe`], so an
//!   Alertmanager that is down resolves nothing.

use std::collections::{BTreeMap, HashMap, HashSet};

use time::OffsetDateTime;

use super::alert::{AlertState, AmAlert};
use super::hosts::{HostIndex, HostMatch, map_hosts};

/// Why a firing alert counts as resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// It is no longer in Alertmanager's list.
    Disappeared,
    /// Its `endsAt` passed.
    Ended(OffsetDateTime),
    /// It started again (a new `startsAt`): the old occurrence is over.
    Restarted,
}

/// What one poll says happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// Newly firing, with the inventory hosts it maps to (or why none).
    Firing { alert: AmAlert, hosts: HostMatch },
    /// No longer firing: the alert as last seen, the hosts it had then, and why.
    Resolved {
        alert: AmAlert,
        hosts: HostMatch,
        why: Resolution,
    },
}

impl Observation {
    pub fn fingerprint(&self) -> &str {
        match self {
            Observation::Firing { alert, .. } | Observation::Resolved { alert, .. } => {
                &alert.fingerprint
            }
        }
    }
}

/// The alerts firing at the previous poll, by fingerprint.
#[derive(Debug, Default)]
pub struct Reconciler {
    firing: HashMap<String, (AmAlert, HostMatch)>,
}

impl Reconciler {
    pub fn new() -> Reconciler {
        Reconciler::default()
    }

    /// How many alerts are firing as of the last poll.
    pub fn firing(&self) -> usize {
        self.firing.len()
    }

    /// Takes an alert as firing without having seen it, as the incident book knows it from an
    /// earlier run: the next poll then resolves it if Alertmanager no longer lists it (it
    /// ended while nobody watched), and does not report it firing again if it does.
    pub fn remember(
        &mut self,
        fingerprint: &str,
        labels: BTreeMap<String, String>,
        hosts: Vec<String>,
    ) {
        let alert = AmAlert {
            fingerprint: fingerprint.to_string(),
            labels,
            annotations: BTreeMap::new(),
            starts_at: None,
            ends_at: None,
            state: AlertState::Active,
            silenced_by: Vec::new(),
            inhibited_by: Vec::new(),
            generator_url: String::new(),
        };
        let hosts = HostMatch {
            hosts,
            unmapped: None,
        };
        self.firing.insert(fingerprint.to_string(), (alert, hosts));
    }

    /// Whether `fingerprint` is firing as of the last poll.
    pub fn is_firing(&self, fingerprint: &str) -> bool {
        self.firing.contains_key(fingerprint)
    }

    /// Takes this poll's alerts; returns resolutions first, then new firings, each in the
    /// order Alertmanager listed them (resolutions of vanished alerts by fingerprint).
    pub fn observe(
        &mut self,
        current: Vec<AmAlert>,
        index: &HostIndex,
        now: OffsetDateTime,
    ) -> Vec<Observation> {
        let mut resolved = Vec::new();
        let mut fired = Vec::new();
        let mut next: HashMap<String, (AmAlert, HostMatch)> = HashMap::with_capacity(current.len());
        let mut listed = HashSet::with_capacity(current.len());
        for alert in current {
            // The same fingerprint twice in one answer: the first counts.
            if !listed.insert(alert.fingerprint.clone()) {
                continue;
            }
            let previous = self.firing.remove(&alert.fingerprint);
            if alert.ended(now) {
                if let Some((before, hosts)) = previous {
                    let at = alert.ends_at.unwrap_or(now);
                    resolved.push(Observation::Resolved {
                        alert: AmAlert {
                            ends_at: Some(at),
                            ..before
                        },
                        hosts,
                        why: Resolution::Ended(at),
                    });
                }
                continue;
            }
            match previous {
                // A remembered alert (no startsAt known) is the same occurrence.
                Some((before, hosts))
                    if before.starts_at.is_none() || before.starts_at == alert.starts_at =>
                {
                    // Still firing: keep the newest picture (state, annotations) and the hosts
                    // it was reported with.
                    next.insert(alert.fingerprint.clone(), (alert, hosts));
                }
                restarted => {
                    if let Some((before, hosts)) = restarted {
                        resolved.push(Observation::Resolved {
                            alert: before,
                            hosts,
                            why: Resolution::Restarted,
                        });
                    }
                    let hosts = map_hosts(&alert.labels, index);
                    fired.push(Observation::Firing {
                        alert: alert.clone(),
                        hosts: hosts.clone(),
                    });
                    next.insert(alert.fingerprint.clone(), (alert, hosts));
                }
            }
        }
        let mut vanished: Vec<(AmAlert, HostMatch)> = self.firing.drain().map(|(_, v)| v).collect();
        vanished.sort_by(|a, b| a.0.fingerprint.cmp(&b.0.fingerprint));
        let mut out: Vec<Observation> = vanished
            .into_iter()
            .map(|(alert, hosts)| Observation::Resolved {
                alert,
                hosts,
                why: Resolution::Disappeared,
            })
            .collect();
        out.extend(resolved);
        out.extend(fired);
        self.firing = next;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-07 22:00 UTC);
    const T1: OffsetDateTime = datetime!(2026-12-07 22:00:15 UTC);
    const T2: OffsetDateTime = datetime!(2026-12-07 22:00:30 UTC);

    fn alert(
        fp: &str,
        host: &str,
        starts: OffsetDateTime,
        ends: Option<OffsetDateTime>,
    ) -> AmAlert {
        AmAlert {
            fingerprint: fp.to_string(),
            labels: BTreeMap::from([
                ("alertname".to_string(), format!("A{fp}")),
                ("instance".to_string(), format!("{host}:9100")),
            ]),
            annotations: BTreeMap::new(),
            starts_at: Some(starts),
            ends_at: ends,
            state: AlertState::Active,
            silenced_by: Vec::new(),
            inhibited_by: Vec::new(),
            generator_url: String::new(),
        }
    }

    fn index() -> HostIndex {
        HostIndex::new([("web01", None), ("web02", None)])
    }

    /// `F:fp` or `R:fp:why` per observation, for short assertions.
    fn summary(obs: &[Observation]) -> Vec<String> {
        obs.iter()
            .map(|o| match o {
                Observation::Firing { alert, .. } => format!("F:{}", alert.fingerprint),
                Observation::Resolved { alert, why, .. } => {
                    let why = match why {
                        Resolution::Disappeared => "gone",
                        Resolution::Ended(_) => "ended",
                        Resolution::Restarted => "restarted",
                    };
                    format!("R:{}:{why}", alert.fingerprint)
                }
            })
            .collect()
    }

    #[test]
    fn new_alerts_fire_once_with_their_hosts() {
        let mut r = Reconciler::new();
        let idx = index();
        let obs = r.observe(
            vec![alert("a", "web01", T0, None), alert("b", "ghost", T0, None)],
            &idx,
            T1,
        );
        assert_eq!(summary(&obs), ["F:a", "F:b"]);
        let Observation::Firing { hosts, .. } = &obs[0] else {
            panic!("{obs:?}")
        };
        assert_eq!(hosts.hosts, ["web01"]);
        let Observation::Firing { hosts, .. } = &obs[1] else {
            panic!("{obs:?}")
        };
        assert!(hosts.hosts.is_empty() && hosts.unmapped.is_some());
        // The same alerts again: nothing new.
        let obs = r.observe(
            vec![alert("a", "web01", T0, None), alert("b", "ghost", T0, None)],
            &idx,
            T2,
        );
        assert!(obs.is_empty(), "{obs:?}");
        assert_eq!(r.firing(), 2);
    }

    #[test]
    fn a_vanished_alert_resolves_with_its_hosts() {
        let mut r = Reconciler::new();
        let idx = index();
        r.observe(
            vec![alert("a", "web01", T0, None), alert("b", "web02", T0, None)],
            &idx,
            T1,
        );
        let obs = r.observe(vec![alert("b", "web02", T0, None)], &idx, T2);
        assert_eq!(summary(&obs), ["R:a:gone"]);
        let Observation::Resolved { hosts, .. } = &obs[0] else {
            panic!("{obs:?}")
        };
        assert_eq!(hosts.hosts, ["web01"]);
        assert!(!r.is_firing("a") && r.is_firing("b"));
        // Everything gone at once (an empty list is an answer, not a failure).
        let obs = r.observe(Vec::new(), &idx, T2);
        assert_eq!(summary(&obs), ["R:b:gone"]);
    }

    #[test]
    fn an_ended_alert_resolves_and_an_ended_stranger_is_ignored() {
        let mut r = Reconciler::new();
        let idx = index();
        r.observe(vec![alert("a", "web01", T0, Some(T2))], &idx, T1);
        let obs = r.observe(
            vec![
                alert("a", "web01", T0, Some(T1)),
                alert("z", "web02", T0, Some(T0)),
            ],
            &idx,
            T2,
        );
        assert_eq!(summary(&obs), ["R:a:ended"]);
        assert_eq!(r.firing(), 0);
    }

    #[test]
    fn a_restarted_alert_resolves_then_fires() {
        let mut r = Reconciler::new();
        let idx = index();
        r.observe(vec![alert("a", "web01", T0, None)], &idx, T1);
        let obs = r.observe(vec![alert("a", "web01", T1, None)], &idx, T2);
        assert_eq!(summary(&obs), ["R:a:restarted", "F:a"]);
    }

    #[test]
    fn remembered_alerts_resolve_when_gone_and_stay_quiet_when_still_firing() {
        let mut r = Reconciler::new();
        r.remember("a", BTreeMap::new(), vec!["web01".to_string()]);
        r.remember("b", BTreeMap::new(), vec!["web02".to_string()]);
        let obs = r.observe(vec![alert("b", "web02", T0, None)], &index(), T1);
        assert_eq!(summary(&obs), ["R:a:gone"]);
        let Observation::Resolved { hosts, .. } = &obs[0] else {
            panic!("{obs:?}")
        };
        assert_eq!(hosts.hosts, ["web01"]);
        // b's startsAt is known now: a new one later is a restart.
        let obs = r.observe(vec![alert("b", "web02", T1, None)], &index(), T2);
        assert_eq!(summary(&obs), ["R:b:restarted", "F:b"]);
    }

    #[test]
    fn a_duplicate_fingerprint_counts_once() {
        let mut r = Reconciler::new();
        let obs = r.observe(
            vec![alert("a", "web01", T0, None), alert("a", "web02", T0, None)],
            &index(),
            T1,
        );
        assert_eq!(summary(&obs), ["F:a"]);
    }
}
