//! Alertmanager into the incident book: each poll's firing and resolved alerts become
//! observations (source `alertmanager`, keyed by Alertmanager's fingerprint), recorded the
//! way agent alerts are. One poll for `fleetdeck incidents`; a loop every `[alertmanager]
//! poll_interval` for the console. Alerts the book has open are remembered before the first
//! poll, so one that ended while no fleetdeck ran is resolved by it.

use std::collections::BTreeMap;
use std::sync::Arc;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::incidents::AlertRecorder;
use crate::incident::alertmanager::AlertmanagerSettings;
use crate::incident::alertmanager::{self as am, AlertmanagerSource, AmAlert, AmError, HostIndex};
use crate::incident::{Book, Incident, Observation, Severity, Source};
use crate::inventory::Host;

/// The book observation an Alertmanager observation is. Firing: when the alert began
/// (`startsAt`, the same on every poll of one firing); resolved: when it ended (`endsAt`
/// if it passed, else now). An alert mapped to no inventory host says why in its
/// annotations (`fleetdeck_hosts`), so the incident shows it rather than dropping it.
pub fn observation(o: &am::Observation, now: OffsetDateTime) -> Observation {
    let (alert, hosts, firing) = match o {
        am::Observation::Firing { alert, hosts } => (alert, hosts, true),
        am::Observation::Resolved { alert, hosts, .. } => (alert, hosts, false),
    };
    let ts = if firing {
        alert.starts_at.unwrap_or(now)
    } else {
        alert.ends_at.filter(|end| *end <= now).unwrap_or(now)
    };
    let mut annotations = alert.annotations.clone();
    if let Some(why) = &hosts.unmapped {
        annotations.insert("fleetdeck_hosts".into(), why.to_string());
    }
    Observation {
        source: Source::Alertmanager,
        fingerprint: alert.fingerprint.clone(),
        title: alert.title().to_string(),
        severity: severity(alert),
        hosts: hosts.hosts.clone(),
        labels: alert.labels.clone(),
        annotations,
        firing,
        ts: ts.format(&Rfc3339).unwrap_or_default(),
    }
}

/// The `severity` label as the book's word (Prometheus rules use critical/warning/info and
/// sometimes error/page/none); anything else counts as a warning.
fn severity(alert: &AmAlert) -> Severity {
    match alert.labels.get("severity").map(|s| s.to_ascii_lowercase()) {
        Some(s) if matches!(s.as_str(), "critical" | "page" | "error" | "emergency") => {
            Severity::Critical
        }
        Some(s) if matches!(s.as_str(), "info" | "none" | "informational") => Severity::Info,
        _ => Severity::Warning,
    }
}

/// The inventory's names and addresses, for mapping alert labels to hosts.
pub fn host_index(hosts: &[Host]) -> HostIndex {
    HostIndex::new(
        hosts
            .iter()
            .map(|h| (h.name.as_str(), h.address.as_deref())),
    )
}

/// Takes the Alertmanager incidents `book` has open as firing in `source`.
pub fn remember_open(source: &mut AlertmanagerSource, book: &Book) {
    for incident in book.list(false) {
        if incident.source == Source::Alertmanager {
            source.remember(
                &incident.fingerprint,
                incident.labels.clone(),
                incident.hosts.clone(),
            );
        }
    }
}

/// What one poll did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PollReport {
    /// Observations the poll made (firing and resolved alerts).
    pub observed: usize,
    /// Lines they added to the book.
    pub written: usize,
    /// Observations the book could not take, and why (the first few).
    pub failures: Vec<String>,
}

/// Polls once and records what changed. `Err` when Alertmanager could not be read (nothing
/// is resolved then).
pub async fn poll_once(
    source: &mut AlertmanagerSource,
    hosts: &HostIndex,
    recorder: &AlertRecorder,
) -> Result<PollReport, AmError> {
    let observations = source.poll(hosts).await?;
    let now = OffsetDateTime::now_utc();
    let batch: Vec<Observation> = observations.iter().map(|o| observation(o, now)).collect();
    let observed = batch.len();
    let mut recorded = recorder.record_batch(batch).await;
    recorded.failures.truncate(5);
    let report = PollReport {
        observed,
        written: recorded.written,
        failures: recorded.failures,
    };
    Ok(report)
}

/// Polls every `poll_interval` until `stop`, recording into the book. A failed poll is
/// logged (and changes nothing); so is an observation the book could not take.
pub fn spawn_loop(
    source: AlertmanagerSource,
    hosts: HostIndex,
    recorder: AlertRecorder,
    poke: Arc<tokio::sync::Notify>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    let every = source
        .poll_interval()
        .max(std::time::Duration::from_secs(1));
    let mut source = source;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
                // Alertmanager's webhook (`[alertmanager] listen`): poll now, and count the
                // interval from here.
                () = poke.notified() => tick.reset(),
            }
            match poll_once(&mut source, &hosts, &recorder).await {
                Ok(report) => {
                    for failure in &report.failures {
                        tracing::warn!(%failure, "Alertmanager alert not in the incident book");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "Alertmanager poll failed"),
            }
        }
    })
}

/// An alert's labels as Alertmanager knows them, for a silence (the book keeps them whole).
pub fn silence_labels(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What acknowledging an incident does in Alertmanager first (karma's ack).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckSilence {
    /// A silence of the alert's labels, by this id.
    Made(String),
    /// Not an active Alertmanager incident: nothing to silence.
    NotNeeded,
    /// `[alertmanager] url` is empty: the book alone is acknowledged (the caller says so).
    NoUrl,
}

/// Makes the silence an ack of `incident` needs, by `who` with `comment`. `Err` (why) when
/// Alertmanager refused or could not be reached: then nothing may be acknowledged.
pub async fn silence_for_ack(
    incident: &Incident,
    settings: &AlertmanagerSettings,
    who: &str,
    comment: Option<&str>,
) -> Result<AckSilence, String> {
    if incident.source != Source::Alertmanager || !incident.state.is_active() {
        return Ok(AckSilence::NotNeeded);
    }
    let source = match AlertmanagerSource::from_settings(settings) {
        Ok(Some(source)) => source,
        Ok(None) => return Ok(AckSilence::NoUrl),
        Err(e) => return Err(e.to_string()),
    };
    let labels = silence_labels(&incident.labels);
    let comment = comment.unwrap_or("acknowledged in fleetdeck");
    source
        .ack_as(&labels, who, comment)
        .await
        .map(AckSilence::Made)
        .map_err(|e| format!("the silence could not be made: {e}"))
}

/// The ack's comment on the timeline: the person's (blank counts as none), with the
/// silence's id when one was made.
pub fn ack_comment(silence: &AckSilence, comment: Option<&str>) -> Option<String> {
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    match (silence, comment) {
        (AckSilence::Made(s), Some(c)) => Some(format!("{c} (Alertmanager silence {s})")),
        (AckSilence::Made(s), None) => Some(format!("Alertmanager silence {s}")),
        (_, c) => c.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::alertmanager::{AlertState, HostMatch, Resolution, Unmapped};

    fn alert(severity: &str) -> AmAlert {
        let mut labels = BTreeMap::new();
        labels.insert("alertname".into(), "DiskFull".into());
        labels.insert("severity".into(), severity.into());
        labels.insert("instance".into(), "web01:9100".into());
        AmAlert {
            fingerprint: "abc123".into(),
            labels,
            annotations: BTreeMap::new(),
            starts_at: OffsetDateTime::from_unix_timestamp(1_800_000_000).ok(),
            ends_at: OffsetDateTime::from_unix_timestamp(1_800_000_600).ok(),
            state: AlertState::Active,
            silenced_by: vec![],
            inhibited_by: vec![],
            generator_url: String::new(),
        }
    }

    #[test]
    fn firing_is_keyed_by_fingerprint_and_stamped_with_its_start() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_100).expect("a time");
        let hosts = HostMatch {
            hosts: vec!["web01".into()],
            unmapped: None,
        };
        let o = observation(
            &am::Observation::Firing {
                alert: alert("critical"),
                hosts,
            },
            now,
        );
        assert_eq!(o.source, Source::Alertmanager);
        assert_eq!(o.fingerprint, "abc123");
        assert_eq!(o.title, "DiskFull");
        assert_eq!(o.severity, Severity::Critical);
        assert_eq!(o.hosts, ["web01"]);
        assert!(o.firing);
        assert_eq!(o.ts, "2027-01-15T08:00:00Z");
    }

    #[test]
    fn resolved_is_stamped_when_it_ended_and_unmapped_hosts_say_why() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_900).expect("a time");
        let hosts = HostMatch {
            hosts: vec![],
            unmapped: Some(Unmapped::NoHostLabel),
        };
        let o = observation(
            &am::Observation::Resolved {
                alert: alert("page"),
                hosts,
                why: Resolution::Disappeared,
            },
            now,
        );
        assert!(!o.firing);
        assert_eq!(o.ts, "2027-01-15T08:10:00Z");
        assert_eq!(o.severity, Severity::Critical);
        assert!(o.annotations.contains_key("fleetdeck_hosts"));
        assert_eq!(severity(&alert("whatever")), Severity::Warning);
        assert_eq!(severity(&alert("info")), Severity::Info);
    }
}
