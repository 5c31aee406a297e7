//! The metric watcher's check: a metric above a threshold for a while, read from the
//! latest [`Metrics`] sample the server publishes.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::condition::{Problem, Status};
use super::config::MetricName;
use crate::config::units::format_duration;
use crate::protocol::{Metrics, Severity};

/// Compares the latest sample with the threshold. Non-blocking (reads the watch channel).
/// Bad once the metric has been above `above` in every check for at least `for_`; good as
/// soon as a check finds it at or below. Until the server sent a first sample (the channel
/// still holds `Metrics::default()`), nothing is concluded.
pub(crate) struct MetricCheck {
    metrics: watch::Receiver<Metrics>,
    metric: MetricName,
    mount: Option<String>,
    above: f64,
    for_: Duration,
    severity: Severity,
    /// When the metric was first seen above the threshold, in the current run of checks.
    over_since: Option<Instant>,
}

impl MetricCheck {
    pub(crate) fn new(
        metrics: watch::Receiver<Metrics>,
        metric: MetricName,
        mount: Option<String>,
        above: f64,
        for_: Duration,
        severity: Severity,
    ) -> MetricCheck {
        MetricCheck {
            metrics,
            metric,
            mount,
            above,
            for_,
            severity,
            over_since: None,
        }
    }

    pub(crate) fn check(&mut self) -> Status {
        self.check_at(Instant::now())
    }

    /// [`check`](Self::check) as if it were `now` (tests step time explicitly).
    fn check_at(&mut self, now: Instant) -> Status {
        let value = {
            let m = self.metrics.borrow();
            if *m == Metrics::default() {
                return Status::Unknown;
            }
            match self.value(&m) {
                Ok(Some(v)) => v,
                Ok(None) => return Status::Unknown,
                Err(problem) => return Status::Bad(problem),
            }
        };
        let name = self.label();
        let above = self.above;
        if value <= above {
            self.over_since = None;
            return Status::Good(format!("{name} is {value:.1}, at or below {above}"));
        }
        let since = *self.over_since.get_or_insert(now);
        if now.saturating_duration_since(since) < self.for_ {
            return Status::Unknown;
        }
        let lasting = if self.for_.is_zero() {
            String::new()
        } else {
            format!(" for {}", format_duration(self.for_))
        };
        Status::Bad(Problem {
            key: "over",
            severity: self.severity,
            summary: format!("{name} is {value:.1}, above {above}{lasting}"),
            detail: None,
        })
    }

    /// `cpu_pct`, or `disk_pct /data`.
    fn label(&self) -> String {
        match &self.mount {
            Some(mount) => format!("{} {mount}", self.metric),
            None => self.metric.to_string(),
        }
    }

    /// The metric's value in `m`; `None` when the sample cannot say (no memory total).
    fn value(&self, m: &Metrics) -> Result<Option<f64>, Problem> {
        let pct = |used: u64, total: u64| (total > 0).then(|| used as f64 * 100.0 / total as f64);
        Ok(match self.metric {
            MetricName::CpuPct => Some(f64::from(m.cpu_pct)),
            MetricName::MemPct => pct(m.mem_used_bytes, m.mem_total_bytes),
            MetricName::Load1 => Some(m.load1),
            MetricName::DiskPct => {
                let mount = self.mount.as_deref().unwrap_or("/");
                let Some(disk) = m.disks.iter().find(|d| d.mount == mount) else {
                    let known: Vec<&str> = m.disks.iter().map(|d| d.mount.as_str()).collect();
                    return Err(Problem {
                        key: "no_data",
                        severity: Severity::Warning,
                        summary: format!("no disk mounted at {mount} in this agent's metrics"),
                        detail: Some(format!("mounts measured: {}", known.join(", "))),
                    });
                };
                pct(disk.used_bytes, disk.total_bytes)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::DiskUsage;

    fn sample(cpu: f32, disk_used: u64) -> Metrics {
        Metrics {
            cpu_pct: cpu,
            mem_used_bytes: 1,
            mem_total_bytes: 4,
            uptime_s: 100,
            disks: vec![DiskUsage {
                mount: "/data".into(),
                used_bytes: disk_used,
                total_bytes: 100,
            }],
            ..Metrics::default()
        }
    }

    #[test]
    fn over_the_threshold_counts_only_after_the_duration() {
        let (tx, rx) = watch::channel(Metrics::default());
        let mut c = MetricCheck::new(
            rx,
            MetricName::CpuPct,
            None,
            90.0,
            Duration::from_secs(60),
            Severity::Critical,
        );
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(c.check_at(at(0)), Status::Unknown, "no sample yet");
        tx.send(sample(95.0, 0)).unwrap();
        assert_eq!(c.check_at(at(1)), Status::Unknown);
        assert_eq!(c.check_at(at(60)), Status::Unknown);
        match c.check_at(at(61)) {
            Status::Bad(p) => {
                assert_eq!((p.key, p.severity), ("over", Severity::Critical));
                assert_eq!(p.summary, "cpu_pct is 95.0, above 90 for 1m");
            }
            other => panic!("{other:?}"),
        }
        // A dip resets the clock.
        tx.send(sample(50.0, 0)).unwrap();
        assert!(matches!(c.check_at(at(62)), Status::Good(_)));
        tx.send(sample(99.0, 0)).unwrap();
        assert_eq!(c.check_at(at(63)), Status::Unknown);
        assert_eq!(c.check_at(at(122)), Status::Unknown);
        assert!(matches!(c.check_at(at(123)), Status::Bad(_)));
    }

    #[test]
    fn memory_and_disk_percentages() {
        let (tx, rx) = watch::channel(sample(0.0, 95));
        let mut disk = MetricCheck::new(
            rx.clone(),
            MetricName::DiskPct,
            Some("/data".into()),
            90.0,
            Duration::ZERO,
            Severity::Warning,
        );
        match disk.check() {
            Status::Bad(p) => assert_eq!(p.summary, "disk_pct /data is 95.0, above 90"),
            other => panic!("{other:?}"),
        }
        let mut mem = MetricCheck::new(
            rx.clone(),
            MetricName::MemPct,
            None,
            20.0,
            Duration::ZERO,
            Severity::Warning,
        );
        assert!(matches!(mem.check(), Status::Bad(p) if p.summary.starts_with("mem_pct is 25.0")));
        let mut missing = MetricCheck::new(
            rx,
            MetricName::DiskPct,
            Some("/srv".into()),
            90.0,
            Duration::ZERO,
            Severity::Critical,
        );
        match missing.check() {
            Status::Bad(p) => {
                assert_eq!((p.key, p.severity), ("no_data", Severity::Warning));
                assert_eq!(p.detail.as_deref(), Some("mounts measured: /data"));
            }
            other => panic!("{other:?}"),
        }
        tx.send(sample(0.0, 10)).unwrap();
        assert!(matches!(disk.check(), Status::Good(_)));
    }
}
