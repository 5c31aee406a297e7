//! config.toml: settings with documented defaults. Every key is optional; unknown keys are
//! errors (a typo silently ignored is a setting silently not applied).

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use super::toml_diag::parse_toml;
use super::units::{ByteSize, HumanDuration};
use crate::diag::Diagnostic;

/// The whole of config.toml.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub run: RunSettings,
    pub ui: UiSettings,
    pub safety: SafetySettings,
    pub log: LogSettings,
    pub store: StoreSettings,
    pub queue: QueueSettings,
    pub breaker: BreakerSettings,
    pub locks: LockSettings,
    pub metrics: MetricsSettings,
    pub alertmanager: crate::incident::alertmanager::AlertmanagerSettings,
    pub notify: crate::incident::notify::NotifySettings,
    pub analysis: crate::incident::analysis::AnalysisSettings,
    /// `[[thresholds]]`: metric limits that open incidents (none by default).
    #[serde(
        deserialize_with = "crate::incident::threshold::rule::de_thresholds",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub thresholds: Vec<crate::incident::threshold::Threshold>,
    /// `[[checks]]`: recurring HTTP or action checks that open incidents (none by default).
    #[serde(
        deserialize_with = "crate::incident::check::rule::de_checks",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub checks: Vec<crate::incident::check::Check>,
}

/// `[run]`: how bulk runs behave unless a flag or an action template says otherwise.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSettings {
    /// Hosts worked on at once (sliding window). 1..=4096.
    #[serde(deserialize_with = "de_fanout")]
    pub fanout: u32,
    /// TCP connect + handshake + auth, per host.
    pub connect_timeout: HumanDuration,
    /// Whole command, per host; `0s` means no limit.
    pub command_timeout: HumanDuration,
    /// Longest silence (no output) before a command counts as hung; `0s` means off.
    pub idle_timeout: HumanDuration,
    /// Output kept per host per run; beyond it the oldest output is dropped with a marker.
    #[serde(deserialize_with = "de_output_cap")]
    pub output_cap_per_host: ByteSize,
    /// SSH handshakes in flight at once (protects sshd MaxStartups and bastions).
    #[serde(deserialize_with = "de_positive")]
    pub max_handshakes: u32,
    /// New connections (SSH handshakes, agent links) started per second at most, across the
    /// whole process (protects bastions); `0` means no limit.
    pub handshakes_per_second: u32,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            fanout: 64,
            connect_timeout: HumanDuration(Duration::from_secs(10)),
            command_timeout: HumanDuration(Duration::from_secs(600)),
            idle_timeout: HumanDuration(Duration::ZERO),
            output_cap_per_host: ByteSize(4 << 20),
            max_handshakes: 32,
            handshakes_per_second: 200,
        }
    }
}

/// `[ui]`: the console's look and keys.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiSettings {
    /// A shipped theme (dark, light, high-contrast) or a file name in themes/ without `.toml`.
    pub theme: String,
    /// A shipped keymap (vim) or a file name in keymaps/ without `.toml`.
    pub keymap: String,
    /// Redraw cap while output streams.
    #[serde(deserialize_with = "de_positive")]
    pub max_fps: u32,
}

impl Default for UiSettings {
    fn default() -> Self {
        Self {
            theme: "dark".to_string(),
            keymap: "vim".to_string(),
            max_fps: 30,
        }
    }
}

/// `[safety]`: guard rails.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SafetySettings {
    /// Environments where a run asks you to type the environment name to confirm.
    pub protected_envs: Vec<String>,
}

impl Default for SafetySettings {
    fn default() -> Self {
        Self {
            protected_envs: vec!["prod".to_string(), "production".to_string()],
        }
    }
}

/// Log verbosity names, as tracing uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// `[log]`: the JSON log files under the logs folder (never the terminal).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    pub level: LogLevel,
}

/// `[store]`: JSONL files (history, audit, incidents) rotate by size.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSettings {
    /// A JSONL file is rotated (name.1.jsonl, ...) before it grows past this.
    #[serde(deserialize_with = "de_rotate_at")]
    pub rotate_at: ByteSize,
    /// Rotated files kept per JSONL file.
    pub keep: u32,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            rotate_at: ByteSize(64 << 20),
            keep: 5,
        }
    }
}

/// `[queue]`: runs wait their turn; concurrent runs share one fan-out budget.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueSettings {
    /// Runs that may wait in the queue; one more is refused with "queue full".
    #[serde(deserialize_with = "de_positive")]
    pub capacity: u32,
    /// Runs that run at once; the others wait.
    #[serde(deserialize_with = "de_positive")]
    pub max_running: u32,
    /// Hosts worked on at once across all running runs (each run's own fanout still applies).
    #[serde(deserialize_with = "de_positive")]
    pub fanout_budget: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            capacity: 32,
            max_running: 4,
            fanout_budget: 256,
        }
    }
}

/// `[breaker]`: a host that keeps failing to connect is skipped fast for a while.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerSettings {
    /// Consecutive connection failures that open the breaker; `0` turns it off.
    pub failures: u32,
    /// How long an open breaker skips the host before one probe is let through.
    pub cooldown: HumanDuration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        Self {
            failures: 3,
            cooldown: HumanDuration(Duration::from_secs(60)),
        }
    }
}

/// `[locks]`: per-host locks taken by actions with `requires_lock`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockSettings {
    /// How long a lock is held at most when the action does not say; an older lock is
    /// reclaimed by the next run that wants it.
    pub ttl: HumanDuration,
    /// The folder on each host where lock directories are made (must be the same for every
    /// console that can reach the host).
    pub remote_dir: String,
}

impl Default for LockSettings {
    fn default() -> Self {
        Self {
            ttl: HumanDuration(Duration::from_secs(30 * 60)),
            remote_dir: "/tmp/fleetdeck-locks".to_string(),
        }
    }
}

/// `[metrics]`: how fleet metrics are collected and offered.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// How often SSH hosts are probed over their pooled connection; `0s` turns it off.
    pub ssh_interval: HumanDuration,
    /// How often node_exporters are scraped; `0s` turns it off.
    pub exporter_interval: HumanDuration,
    /// Scrape every host's address on this port (`http://ADDRESS:PORT/metrics`) unless the
    /// host names its own exporter; `0` means only hosts that name one.
    pub node_exporter_port: u16,
    /// Serve `/metrics` (Prometheus text) on this address while a console runs, e.g.
    /// `127.0.0.1:9464`; empty means off.
    #[serde(deserialize_with = "de_listen")]
    pub listen: String,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            ssh_interval: HumanDuration(Duration::from_secs(15)),
            exporter_interval: HumanDuration(Duration::from_secs(15)),
            node_exporter_port: 0,
            listen: String::new(),
        }
    }
}

impl MetricsSettings {
    /// The SSH probe interval, `None` when off.
    pub fn ssh_interval(&self) -> Option<Duration> {
        non_zero(self.ssh_interval.0)
    }

    /// The exporter scrape interval, `None` when off.
    pub fn exporter_interval(&self) -> Option<Duration> {
        non_zero(self.exporter_interval.0)
    }

    /// The `/metrics` listen address, `None` when off.
    pub fn listen(&self) -> Option<&str> {
        Some(self.listen.trim()).filter(|l| !l.is_empty())
    }
}

impl Settings {
    /// Loads config.toml; a missing file means all defaults.
    pub fn load(path: &Path) -> Result<Self, Diagnostic> {
        match std::fs::read_to_string(path) {
            Ok(src) => Self::parse(path, &src),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Diagnostic::whole_file(path, format!("cannot read: {e}"))),
        }
    }

    pub fn parse(path: &Path, src: &str) -> Result<Self, Diagnostic> {
        parse_toml(path, src)
    }

    /// The documented default config, as `fleetdeck paths` / the README show it.
    pub fn default_toml() -> String {
        toml::to_string(&Self::default()).unwrap_or_default()
    }

    /// The command timeout, `None` when unlimited.
    pub fn command_timeout(&self) -> Option<Duration> {
        non_zero(self.run.command_timeout.0)
    }

    /// The idle timeout, `None` when off.
    pub fn idle_timeout(&self) -> Option<Duration> {
        non_zero(self.run.idle_timeout.0)
    }
}

fn non_zero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

fn de_fanout<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = i64::deserialize(d)?;
    if (1..=4096).contains(&n) {
        Ok(n as u32)
    } else {
        Err(serde::de::Error::custom(format!(
            "fanout must be between 1 and 4096, got {n}"
        )))
    }
}

pub(crate) fn de_listen<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.parse::<std::net::SocketAddr>().is_ok() {
        Ok(trimmed.to_string())
    } else {
        Err(serde::de::Error::custom(format!(
            "listen must be an IP address and port such as \"127.0.0.1:9464\" (or empty for off), got {text:?}"
        )))
    }
}

fn de_positive<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = i64::deserialize(d)?;
    if (1..=i64::from(u32::MAX)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(serde::de::Error::custom(format!(
            "must be at least 1, got {n}"
        )))
    }
}

fn de_output_cap<'de, D: Deserializer<'de>>(d: D) -> Result<ByteSize, D::Error> {
    let size = ByteSize::deserialize(d)?;
    if size.0 < 1024 {
        return Err(serde::de::Error::custom(format!(
            "output_cap_per_host must be at least 1KiB, got {size}"
        )));
    }
    Ok(size)
}

fn de_rotate_at<'de, D: Deserializer<'de>>(d: D) -> Result<ByteSize, D::Error> {
    let size = ByteSize::deserialize(d)?;
    if size.0 < 64 * 1024 {
        return Err(serde::de::Error::custom(format!(
            "rotate_at must be at least 64KiB, got {size}"
        )));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Settings, String> {
        Settings::parse(Path::new("config.toml"), src).map_err(|d| d.to_string())
    }

    #[test]
    fn empty_file_is_all_defaults() {
        assert_eq!(parse("").unwrap(), Settings::default());
    }

    #[test]
    fn defaults_round_trip_through_their_toml() {
        let text = Settings::default_toml();
        assert_eq!(parse(&text).unwrap(), Settings::default());
    }

    #[test]
    fn values_are_read() {
        let s = parse("[run]\nfanout = 8\ncommand_timeout = \"0s\"\n[log]\nlevel = \"debug\"\n")
            .unwrap();
        assert_eq!(s.run.fanout, 8);
        assert_eq!(s.command_timeout(), None);
        assert_eq!(s.log.level, LogLevel::Debug);
    }

    #[test]
    fn metrics_settings_are_read_and_checked() {
        let s = parse("[metrics]\nssh_interval = \"0s\"\nnode_exporter_port = 9100\nlisten = \"127.0.0.1:9464\"\n")
            .unwrap();
        assert_eq!(s.metrics.ssh_interval(), None);
        assert_eq!(s.metrics.exporter_interval(), Some(Duration::from_secs(15)));
        assert_eq!(s.metrics.node_exporter_port, 9100);
        assert_eq!(s.metrics.listen(), Some("127.0.0.1:9464"));
        let err = parse("[metrics]\nlisten = \"localhost\"\n").unwrap_err();
        assert!(err.starts_with("config.toml:2:10: listen must be"), "{err}");
    }

    #[test]
    fn unknown_key_names_line_column_and_suggests() {
        let err = parse("[run]\nfanuot = 8\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:2:1: unknown key `fanuot`: did you mean `fanout`?"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_point_at_the_value() {
        let err = parse("[run]\nfanout = 0\n").unwrap_err();
        assert!(
            err.starts_with("config.toml:2:10: fanout must be between 1 and 4096"),
            "{err}"
        );
        let err = parse("[run]\nconnect_timeout = \"10\"\n").unwrap_err();
        assert!(
            err.contains("config.toml:2:19: invalid duration `10`"),
            "{err}"
        );
        let err = parse("[log]\nlevel = \"verbose\"\n").unwrap_err();
        assert!(err.contains("unknown value `verbose`"), "{err}");
        let err = parse("[run]\nfanout = \"many\"\n").unwrap_err();
        assert!(err.starts_with("config.toml:2:10:"), "{err}");
    }
}
