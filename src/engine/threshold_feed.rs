//! `[[thresholds]]` into the incident book: the evaluator is fed every metrics frame the
//! session publishes, and each breach that fires or clears becomes an observation (source
//! `threshold`, fingerprint `THRESHOLD/HOST`). A breach the book still has open from an
//! earlier run is cleared at the host's first fresh sample that no longer breaches it (the
//! evaluator, starting afresh, would never report it cleared).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::SystemTime;

use crate::store::system_rfc3339;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::incidents::AlertRecorder;
use super::session::view::SharedView;
use crate::incident::threshold::{self, Evaluator, Threshold};
use crate::incident::{Book, Observation, Source};
use crate::metrics::MetricsFrame;

/// The book observation a breach that fired (stamped when it began) or cleared (when the
/// sample that cleared it was taken) is.
pub fn observation(o: &threshold::Observation) -> Observation {
    let (breach, firing) = match o {
        threshold::Observation::Firing(b) => (b, true),
        threshold::Observation::Cleared(b) => (b, false),
    };
    let facts = breach.facts();
    Observation {
        source: Source::Threshold,
        fingerprint: fingerprint(&breach.threshold, &breach.host),
        title: facts.title,
        severity: facts.severity,
        hosts: facts.hosts,
        labels: facts.labels,
        annotations: BTreeMap::new(),
        firing,
        ts: system_rfc3339(if firing { breach.since } else { breach.at }),
    }
}

fn fingerprint(threshold: &str, host: &str) -> String {
    format!("{threshold}/{host}")
}

/// Threshold incidents the book has open, as (threshold name, host).
fn open_in(book: &Book, thresholds: &[Threshold]) -> BTreeSet<(String, String)> {
    book.list(false)
        .into_iter()
        .filter(|i| i.source == Source::Threshold)
        .filter_map(|i| {
            thresholds.iter().find_map(|t| {
                let host = i.fingerprint.strip_prefix(&format!("{}/", t.name))?;
                Some((t.name.clone(), host.to_string()))
            })
        })
        .collect()
}

/// Clears of `left_open` breaches whose host has a sample newer than `since` that does not
/// breach them; those looked at leave `left_open` (a breaching one is the evaluator's).
fn clear_left_open(
    left_open: &mut BTreeSet<(String, String)>,
    thresholds: &[Threshold],
    frame: &MetricsFrame,
    since: SystemTime,
) -> Vec<Observation> {
    let mut out = Vec::new();
    left_open.retain(|(name, host)| {
        let Some(t) = thresholds.iter().find(|t| &t.name == name) else {
            return false;
        };
        let Some(sample) = frame
            .hosts
            .get(host)
            .and_then(|now| now.latest.as_ref())
            .filter(|s| s.ts > since)
        else {
            return true;
        };
        if let Some(value) = sample.get(t.metric)
            && !t.bound.breached_by(value)
        {
            let breach = threshold::Breach {
                threshold: t.name.clone(),
                host: host.clone(),
                metric: t.metric,
                bound: t.bound,
                severity: t.severity,
                value,
                since: sample.ts,
                at: sample.ts,
            };
            out.push(observation(&threshold::Observation::Cleared(breach)));
        }
        false
    });
    out
}

/// Evaluates every new metrics frame of `view` until `stop`, recording what changed.
pub(crate) fn spawn(
    mut evaluator: Evaluator,
    thresholds: Vec<Threshold>,
    book: Option<&Book>,
    view: Arc<SharedView>,
    recorder: AlertRecorder,
    stop: CancellationToken,
) -> JoinHandle<()> {
    let mut left_open = book.map(|b| open_in(b, &thresholds)).unwrap_or_default();
    let started = SystemTime::now();
    tokio::spawn(async move {
        let mut changes = view.changes();
        let mut last: Option<Arc<MetricsFrame>> = None;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                changed = changes.changed() => if changed.is_err() { return },
            }
            let frame = view.metrics();
            if last.as_ref().is_some_and(|l| Arc::ptr_eq(l, &frame)) {
                continue;
            }
            let mut batch: Vec<Observation> = evaluator
                .observe_frame(&frame)
                .iter()
                .map(observation)
                .collect();
            if !left_open.is_empty() {
                batch.extend(clear_left_open(
                    &mut left_open,
                    &thresholds,
                    &frame,
                    started,
                ));
            }
            last = Some(frame);
            if batch.is_empty() {
                continue;
            }
            let failed = recorder.record_batch(batch).await.failures;
            for e in failed {
                tracing::warn!(error = %e, "threshold breach not in the incident book");
            }
        }
    })
}
