//! The metrics log: finished 1-minute and 1-hour averages appended to metrics/minute.jsonl
//! and metrics/hour.jsonl (rotated like the other JSONL), and read back when a session opens,
//! so a console started later shows the last day at once. One line per flush per tier, every
//! host's points in it as `[host, epoch_secs, cpu, mem, disk, load, net_rx, net_tx]` (null
//! where the source gave nothing): a fleet's day of minutes stays tens of megabytes. Several
//! processes may append (a console and a watcher); a point read twice replaces itself.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::config::Home;
use crate::metrics::series::epoch_secs;
use crate::metrics::{Closed, Point, Tier};
use crate::store::{
    JsonlWriter, Rotation, SCHEMA_VERSION, StoreError, for_each_record, rotated_path,
};

/// One stored point: host, seconds since the epoch, then `Metric::ALL` values.
type Row = (String, u32, [Option<f64>; 6]);

#[derive(Debug, Serialize, Deserialize)]
struct Line {
    tier: Tier,
    points: Vec<Row>,
}

/// Rotated files looked at when reading back (a day of a big fleet spans a few).
const MAX_ROTATED: usize = 16;

/// Where each tier's file is.
pub fn path(home: &Home, tier: Tier) -> PathBuf {
    home.metrics_dir().join(match tier {
        Tier::Raw => "raw.jsonl",
        Tier::Minute => "minute.jsonl",
        Tier::Hour => "hour.jsonl",
    })
}

/// Appends finished averages; opened lazily, so a session that never samples makes no file.
pub struct MetricsLog {
    home: Home,
    rotation: Rotation,
    minute: Option<JsonlWriter>,
    hour: Option<JsonlWriter>,
}

impl MetricsLog {
    pub fn new(home: &Home, rotation: Rotation) -> MetricsLog {
        MetricsLog {
            home: home.clone(),
            rotation,
            minute: None,
            hour: None,
        }
    }

    /// Appends `closed` (raw points are never stored), one line per tier.
    pub fn append(&mut self, closed: &[(String, Closed)]) -> Result<(), StoreError> {
        for tier in [Tier::Minute, Tier::Hour] {
            let points: Vec<Row> = closed
                .iter()
                .filter(|(_, c)| c.tier == tier)
                .map(|(host, c)| (host.clone(), c.point.ts, c.point.values()))
                .collect();
            if points.is_empty() {
                continue;
            }
            let slot = match tier {
                Tier::Minute => &mut self.minute,
                _ => &mut self.hour,
            };
            if slot.is_none() {
                *slot = Some(JsonlWriter::open(
                    &path(&self.home, tier),
                    self.rotation,
                    SCHEMA_VERSION,
                )?);
            }
            if let Some(w) = slot.as_mut() {
                w.append(&Line { tier, points })?;
            }
        }
        Ok(())
    }
}

/// The averages of the last 24 hours (minutes) and 30 days (hours) at `now`, oldest first,
/// from the current and rotated files. Damaged lines are skipped (and logged).
pub fn read_back(home: &Home, now: SystemTime) -> Vec<(String, Closed)> {
    let mut out = Vec::new();
    for tier in [Tier::Hour, Tier::Minute] {
        let from = epoch_secs(
            now - tier
                .span()
                .min(Duration::from_secs(u64::from(epoch_secs(now)))),
        );
        let base = path(home, tier);
        let mut files: Vec<PathBuf> = (0..=MAX_ROTATED)
            .map(|n| rotated_path(&base, n))
            .take_while(|p| p.exists())
            .collect();
        files.reverse();
        for file in files {
            read_file(&file, tier, from, &mut out);
        }
    }
    out
}

fn read_file(file: &Path, tier: Tier, from: u32, out: &mut Vec<(String, Closed)>) {
    let result = for_each_record(file, |_, line: Line| {
        if line.tier != tier {
            return;
        }
        for (host, ts, values) in line.points {
            if ts >= from {
                out.push((
                    host,
                    Closed {
                        tier,
                        point: Point::from_values(ts, values),
                    },
                ));
            }
        }
    });
    match result {
        Ok(summary) if !summary.corrupt.is_empty() => tracing::warn!(
            file = %file.display(),
            damaged = summary.corrupt.len(),
            "skipped damaged lines in the metrics log"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(file = %file.display(), error = %e, "cannot read the metrics log"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metric;

    #[test]
    fn averages_written_are_read_back_within_their_span() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::under(dir.path());
        let now = SystemTime::now();
        let t = epoch_secs(now);
        let point =
            |ts: u32, cpu: f64| Point::from_values(ts, [Some(cpu), None, None, None, None, None]);
        let mut log = MetricsLog::new(&home, Rotation::NEVER);
        log.append(&[
            (
                "a".into(),
                Closed {
                    tier: Tier::Minute,
                    point: point(t - 120, 10.0),
                },
            ),
            // Older than a day: not read back as a minute.
            (
                "a".into(),
                Closed {
                    tier: Tier::Minute,
                    point: point(t - 25 * 3600, 99.0),
                },
            ),
            (
                "b".into(),
                Closed {
                    tier: Tier::Hour,
                    point: point(t - 3 * 24 * 3600, 30.0),
                },
            ),
        ])
        .expect("append");
        let back = read_back(&home, now);
        assert_eq!(back.len(), 2, "{back:?}");
        assert_eq!(back[0].0, "b");
        assert_eq!(back[0].1.tier, Tier::Hour);
        assert_eq!(back[1].1.point.get(Metric::Cpu), Some(10.0));
        assert_eq!(back[1].1.point.get(Metric::Mem), None);
    }

    #[test]
    fn a_damaged_line_does_not_stop_reading() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::under(dir.path());
        let now = SystemTime::now();
        let t = epoch_secs(now);
        let mut log = MetricsLog::new(&home, Rotation::NEVER);
        let c = Closed {
            tier: Tier::Minute,
            point: Point::from_values(t - 60, [Some(1.0), None, None, None, None, None]),
        };
        log.append(&[("a".into(), c)]).expect("append");
        std::fs::write(
            path(&home, Tier::Minute),
            format!(
                "{}garbage\n",
                std::fs::read_to_string(path(&home, Tier::Minute)).expect("read")
            ),
        )
        .expect("write");
        log.append(&[("b".into(), c)]).expect("append");
        assert_eq!(read_back(&home, now).len(), 2);
    }
}
