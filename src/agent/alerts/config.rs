//! Watcher configuration: the `[[watchers]]` tables of the agent's TOML.
//!
//! ```toml
//! [[watchers]]
//! name = "nginx"              # names the alerts; unique per agent
//! kind = "systemd"            # systemd | process | log | metric
//! unit = "nginx.service"
//! interval = "30s"            # optional; how often to check (default per kind, min 100ms)
//! severity = "critical"       # optional; info | warning | critical (default warning)
//!
//! [[watchers]]
//! name = "worker"
//! kind = "process"
//! process = "worker"          # exact process name (as `ps -o comm` shows it, or argv[0]'s
//!                             # file name), or instead:
//! # cmdline = "python3 .*worker\\.py"   # a regex over the command line
//!
//! [[watchers]]
//! name = "app-errors"
//! kind = "log"
//! path = "/var/log/app.log"
//! pattern = "ERROR|panicked"  # a regex, matched against each new line
//! max_read = "1MiB"           # optional; most bytes read per check (default 1MiB)
//! quiet = "1m"                # optional; resolved after this long without a match (default 1m)
//!
//! [[watchers]]
//! name = "root-disk"
//! kind = "metric"
//! metric = "disk_pct"         # cpu_pct | mem_pct | disk_pct | load1
//! mount = "/"                 # disk_pct only
//! above = 90.0
//! for = "5m"                  # optional; how long it must stay above (default 0s)
//! ```
//!
//! Unknown keys, and keys of another kind (`pattern` on a process watcher), are errors.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use crate::config::units::{ByteSize, HumanDuration, format_duration};
use crate::protocol::Severity;

/// The shortest check interval accepted (every loop stays bounded in rate).
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// Default bytes a log watcher reads per check; a burst larger than this is read over the
/// following checks.
pub const DEFAULT_MAX_READ: u64 = 1024 * 1024;

/// Default time without a matching line before a log watcher's alert resolves: a steady
/// trickle of errors stays one alert instead of flapping.
pub const DEFAULT_QUIET: Duration = Duration::from_secs(60);

/// Most bytes a log watcher may be configured to read per check.
pub const MAX_MAX_READ: u64 = 64 * 1024 * 1024;

/// One `[[watchers]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawWatcher")]
pub struct WatcherConfig {
    pub name: String,
    /// How often the watcher checks.
    pub interval: Duration,
    /// The severity of its alerts (problems of the watcher itself, such as a missing
    /// `systemctl` or an unreadable log file, are always warnings).
    pub severity: Severity,
    pub kind: WatcherKind,
}

/// What a watcher watches.
#[derive(Debug, Clone)]
pub enum WatcherKind {
    /// Alerts while `systemctl is-active UNIT` does not say it is active.
    Systemd { unit: String },
    /// Alerts while no process matches.
    Process { matcher: ProcessMatch },
    /// Alerts when new lines of the file match `pattern`; resolved once no new line has
    /// matched for `quiet`.
    Log {
        path: PathBuf,
        pattern: Regex,
        max_read: u64,
        quiet: Duration,
    },
    /// Alerts while the metric stays above `above` for at least `for_`.
    Metric {
        metric: MetricName,
        /// The mount point, for `disk_pct`.
        mount: Option<String>,
        above: f64,
        for_: Duration,
    },
}

/// How a process watcher recognizes its process.
#[derive(Debug, Clone)]
pub enum ProcessMatch {
    /// The process name (the kernel's, at most 15 bytes) or the file name of its argv[0].
    Name(String),
    /// A regex over the command line, arguments joined by spaces.
    Cmdline(Regex),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricName {
    CpuPct,
    MemPct,
    DiskPct,
    Load1,
}

impl MetricName {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricName::CpuPct => "cpu_pct",
            MetricName::MemPct => "mem_pct",
            MetricName::DiskPct => "disk_pct",
            MetricName::Load1 => "load1",
        }
    }
}

impl fmt::Display for MetricName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindName {
    Systemd,
    Process,
    Log,
    Metric,
}

impl KindName {
    fn as_str(self) -> &'static str {
        match self {
            KindName::Systemd => "systemd",
            KindName::Process => "process",
            KindName::Log => "log",
            KindName::Metric => "metric",
        }
    }

    fn default_interval(self) -> Duration {
        match self {
            KindName::Systemd | KindName::Process => Duration::from_secs(30),
            KindName::Log => Duration::from_secs(10),
            KindName::Metric => Duration::from_secs(15),
        }
    }
}

/// The table as written; [`WatcherConfig`] is what it means once checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWatcher {
    name: String,
    kind: KindName,
    interval: Option<HumanDuration>,
    severity: Option<Severity>,
    unit: Option<String>,
    process: Option<String>,
    cmdline: Option<String>,
    path: Option<PathBuf>,
    pattern: Option<String>,
    max_read: Option<ByteSize>,
    quiet: Option<HumanDuration>,
    metric: Option<MetricName>,
    mount: Option<String>,
    above: Option<f64>,
    #[serde(rename = "for")]
    for_: Option<HumanDuration>,
}

impl RawWatcher {
    /// The kind-specific keys that are set, with the kinds they belong to.
    fn set_keys(&self) -> Vec<(&'static str, &'static [KindName])> {
        use KindName::*;
        let keys: [(&'static str, bool, &'static [KindName]); 11] = [
            ("unit", self.unit.is_some(), &[Systemd]),
            ("process", self.process.is_some(), &[Process]),
            ("cmdline", self.cmdline.is_some(), &[Process]),
            ("path", self.path.is_some(), &[Log]),
            ("pattern", self.pattern.is_some(), &[Log]),
            ("max_read", self.max_read.is_some(), &[Log]),
            ("quiet", self.quiet.is_some(), &[Log]),
            ("metric", self.metric.is_some(), &[Metric]),
            ("mount", self.mount.is_some(), &[Metric]),
            ("above", self.above.is_some(), &[Metric]),
            ("for", self.for_.is_some(), &[Metric]),
        ];
        keys.into_iter()
            .filter(|(_, set, _)| *set)
            .map(|(key, _, kinds)| (key, kinds))
            .collect()
    }
}

impl TryFrom<RawWatcher> for WatcherConfig {
    type Error = String;

    fn try_from(raw: RawWatcher) -> Result<Self, String> {
        let name = raw.name.trim().to_string();
        if name.is_empty() {
            return Err("watcher `name` must not be empty".to_string());
        }
        let kind_name = raw.kind;
        let at = format!("watcher `{name}` (kind = \"{}\")", kind_name.as_str());
        if let Some((key, kinds)) = raw
            .set_keys()
            .into_iter()
            .find(|(_, kinds)| !kinds.contains(&kind_name))
        {
            let owners: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            return Err(format!(
                "{at}: `{key}` belongs to kind {}",
                owners.join(" or ")
            ));
        }
        let interval = raw.interval.map_or(kind_name.default_interval(), |d| d.0);
        if interval < MIN_INTERVAL {
            return Err(format!(
                "{at}: interval {} is shorter than the minimum {}",
                format_duration(interval),
                format_duration(MIN_INTERVAL)
            ));
        }
        let missing = |key: &str| format!("{at}: `{key}` is required");
        let regex = |key: &str, text: &str| {
            Regex::new(text).map_err(|e| format!("{at}: `{key}` is not a valid regex: {e}"))
        };
        let kind = match kind_name {
            KindName::Systemd => {
                let unit = raw.unit.ok_or_else(|| missing("unit"))?;
                if unit.trim().is_empty() || unit.starts_with('-') {
                    return Err(format!("{at}: `unit` must be a unit name"));
                }
                WatcherKind::Systemd { unit }
            }
            KindName::Process => {
                let matcher = match (raw.process, raw.cmdline) {
                    (Some(_), Some(_)) => {
                        return Err(format!("{at}: set `process` or `cmdline`, not both"));
                    }
                    (None, None) => {
                        return Err(format!(
                            "{at}: set `process` (exact name) or `cmdline` (regex)"
                        ));
                    }
                    (Some(p), None) if p.is_empty() => {
                        return Err(format!("{at}: `process` must not be empty"));
                    }
                    (Some(p), None) => ProcessMatch::Name(p),
                    (None, Some(c)) => ProcessMatch::Cmdline(regex("cmdline", &c)?),
                };
                WatcherKind::Process { matcher }
            }
            KindName::Log => {
                let path = raw.path.ok_or_else(|| missing("path"))?;
                if !path.is_absolute() {
                    return Err(format!("{at}: `path` must be absolute"));
                }
                let pattern = regex("pattern", &raw.pattern.ok_or_else(|| missing("pattern"))?)?;
                let max_read = raw.max_read.map_or(DEFAULT_MAX_READ, |b| b.0);
                if max_read == 0 || max_read > MAX_MAX_READ {
                    return Err(format!(
                        "{at}: `max_read` must be between 1 byte and {} MiB",
                        MAX_MAX_READ / 1024 / 1024
                    ));
                }
                WatcherKind::Log {
                    path,
                    pattern,
                    max_read,
                    quiet: raw.quiet.map_or(DEFAULT_QUIET, |d| d.0),
                }
            }
            KindName::Metric => {
                let metric = raw.metric.ok_or_else(|| missing("metric"))?;
                let above = raw.above.ok_or_else(|| missing("above"))?;
                if !above.is_finite() {
                    return Err(format!("{at}: `above` must be a number"));
                }
                match (metric, &raw.mount) {
                    (MetricName::DiskPct, None) => return Err(missing("mount")),
                    (MetricName::DiskPct, Some(_)) | (_, None) => {}
                    (_, Some(_)) => {
                        return Err(format!("{at}: `mount` is only for metric = \"disk_pct\""));
                    }
                }
                WatcherKind::Metric {
                    metric,
                    mount: raw.mount,
                    above,
                    for_: raw.for_.map_or(Duration::ZERO, |d| d.0),
                }
            }
        };
        Ok(WatcherConfig {
            name,
            interval,
            severity: raw.severity.unwrap_or(Severity::Warning),
            kind,
        })
    }
}

/// Checks what one table cannot: watcher names are unique (alerts are told apart by them).
pub fn check_unique_names(configs: &[WatcherConfig]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for c in configs {
        if !seen.insert(c.name.as_str()) {
            return Err(format!(
                "two watchers are named `{}`; give each a name of its own",
                c.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        watchers: Vec<WatcherConfig>,
    }

    fn parse(text: &str) -> Result<Vec<WatcherConfig>, String> {
        toml::from_str::<File>(text)
            .map(|f| f.watchers)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn every_kind_parses_with_defaults() {
        let w = parse(
            r#"
            [[watchers]]
            name = "nginx"
            kind = "systemd"
            unit = "nginx.service"
            severity = "critical"

            [[watchers]]
            name = "worker"
            kind = "process"
            cmdline = 'python3 .*worker\.py'
            interval = "5s"

            [[watchers]]
            name = "errors"
            kind = "log"
            path = "/var/log/app.log"
            pattern = "ERROR"
            max_read = "64KiB"
            quiet = "0s"

            [[watchers]]
            name = "disk"
            kind = "metric"
            metric = "disk_pct"
            mount = "/"
            above = 90
            for = "5m"
            "#,
        )
        .unwrap();
        assert_eq!(w.len(), 4);
        assert!(matches!(&w[0].kind, WatcherKind::Systemd { unit } if unit == "nginx.service"));
        assert_eq!(w[0].severity, Severity::Critical);
        assert_eq!(w[0].interval, Duration::from_secs(30));
        assert!(matches!(
            &w[1].kind,
            WatcherKind::Process { matcher: ProcessMatch::Cmdline(r) } if r.is_match("python3 /srv/worker.py -v")
        ));
        assert_eq!(w[1].interval, Duration::from_secs(5));
        assert_eq!(w[1].severity, Severity::Warning);
        assert!(matches!(
            &w[2].kind,
            WatcherKind::Log {
                max_read: 65536,
                ..
            }
        ));
        assert!(matches!(
            &w[3].kind,
            WatcherKind::Metric { metric: MetricName::DiskPct, mount: Some(m), above, for_ }
                if m == "/" && *above == 90.0 && *for_ == Duration::from_secs(300)
        ));
        assert!(check_unique_names(&w).is_ok());
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                "name='a'\nkind='process'\nprocess='x'\npattern='y'",
                "`pattern` belongs to kind log",
            ),
            ("name='a'\nkind='process'", "set `process` (exact name)"),
            (
                "name='a'\nkind='process'\nprocess='x'\ncmdline='y'",
                "not both",
            ),
            (
                "name='a'\nkind='systemd'\nunitt='x'",
                "unknown field `unitt`",
            ),
            ("name='a'\nkind='systemd'", "`unit` is required"),
            (
                "name='a'\nkind='log'\npath='/x'\npattern='('",
                "not a valid regex",
            ),
            (
                "name='a'\nkind='log'\npath='x.log'\npattern='e'",
                "absolute",
            ),
            (
                "name='a'\nkind='metric'\nmetric='disk_pct'\nabove=1",
                "`mount` is required",
            ),
            (
                "name='a'\nkind='metric'\nmetric='cpu_pct'\nabove=1\nmount='/'",
                "only for metric",
            ),
            (
                "name='a'\nkind='metric'\nmetric='cpu_pct'\nabove=1\ninterval='10ms'",
                "shorter than the minimum",
            ),
            (
                "name='a'\nkind='metric'\nmetric='swap'\nabove=1",
                "unknown variant",
            ),
            ("name=' '\nkind='systemd'\nunit='x'", "must not be empty"),
            ("name='a'\nkind='nfs'", "unknown variant"),
        ];
        for (table, want) in cases {
            let err = parse(&format!("[[watchers]]\n{table}\n")).unwrap_err();
            assert!(err.contains(want), "{table}: {err}");
        }
    }

    #[test]
    fn duplicate_names_are_refused() {
        let w = parse(
            "[[watchers]]\nname='a'\nkind='systemd'\nunit='x'\n[[watchers]]\nname='a'\nkind='systemd'\nunit='y'\n",
        )
        .unwrap();
        assert!(check_unique_names(&w).unwrap_err().contains("`a`"));
    }
}
