//! The metrics probe: one fixed POSIX sh command that prints /proc/stat, /proc/meminfo,
//! /proc/loadavg, /proc/net/dev and `df -P -k`, each after a marker line, and the parser of
//! its output into a `Reading`. A login banner or motd before the first marker is ignored; a
//! host without /proc (not Linux) is told apart from a broken one, so a sampler can mark it
//! "no metrics" once instead of retrying it every tick.

use std::fmt;

use super::select::{Mount, counted_interfaces, is_storage, real_mounts};

/// Marks the start of each section; chosen so no /proc file or df line can look like it.
const MARK: &str = "--fleetdeck-metrics--";

/// The command an SSH sampler runs: fixed text, nothing from the user. Missing files print
/// nothing in their section (so a non-Linux host is recognised), and `df` errors are dropped.
pub fn probe_command() -> String {
    let section = |name: &str, cmd: &str| format!("echo '{MARK} {name}'; {cmd} 2>/dev/null; ");
    let mut text = String::new();
    text.push_str(&section("stat", "cat /proc/stat"));
    text.push_str(&section("meminfo", "cat /proc/meminfo"));
    text.push_str(&section("loadavg", "cat /proc/loadavg"));
    text.push_str(&section("net", "cat /proc/net/dev"));
    // Interfaces with no hardware behind them (bridges, veths): see select::counted_interfaces.
    text.push_str(&section("virtual", "ls /sys/devices/virtual/net"));
    text.push_str(&section("df", "df -P -k"));
    text.push_str(&format!("echo '{MARK} end'"));
    text
}

/// CPU time in clock ticks since boot, summed over all CPUs (the `cpu` line of /proc/stat).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTimes {
    /// Time doing anything but idling or waiting for I/O.
    pub busy: u64,
    /// idle + iowait.
    pub idle: u64,
}

/// What one run of the probe read: counters (rates need two readings) and levels.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub cpu: CpuTimes,
    pub mem_total_kib: u64,
    pub mem_available_kib: u64,
    pub load1: f64,
    /// Bytes received and sent since boot, summed over the counted interfaces (hardware
    /// ones, or all but loopback where none is: `select::counted_interfaces`).
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
    /// Real file systems (`select::real_mounts`), sorted by mount point.
    pub disks: Vec<Mount>,
}

impl Reading {
    /// Memory in use, percent: everything but MemAvailable.
    pub fn mem_pct(&self) -> f64 {
        if self.mem_total_kib == 0 {
            return 0.0;
        }
        let used = self.mem_total_kib.saturating_sub(self.mem_available_kib);
        used as f64 * 100.0 / self.mem_total_kib as f64
    }

    /// The fullest real filesystem, if any.
    pub fn fullest_disk(&self) -> Option<&Mount> {
        self.disks
            .iter()
            .max_by(|a, b| a.used_pct().total_cmp(&b.used_pct()))
    }
}

/// Why a probe's output gave no reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// The sections are there but /proc/stat is empty: not Linux. Not worth retrying.
    NoProc,
    /// The output is not the probe's (cut short, or something else answered).
    Garbled(String),
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::NoProc => {
                f.write_str("no metrics: this host has no /proc/stat (not Linux)")
            }
            ProbeError::Garbled(why) => write!(f, "the metrics probe's output is unusable: {why}"),
        }
    }
}

impl std::error::Error for ProbeError {}

/// Parses the probe's output. Text before the first marker (a banner) is ignored.
pub fn parse_probe(text: &str) -> Result<Reading, ProbeError> {
    let sections = split_sections(text)?;
    let get = |name: &str| {
        sections
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, body)| body.as_str())
            .ok_or_else(|| ProbeError::Garbled(format!("no `{name}` section (output cut short?)")))
    };
    let stat = get("stat")?;
    if stat.trim().is_empty() {
        return Err(ProbeError::NoProc);
    }
    let cpu = parse_stat(stat)?;
    let (mem_total_kib, mem_available_kib) = parse_meminfo(get("meminfo")?)?;
    let load1 = parse_loadavg(get("loadavg")?)?;
    // Older probes' output (or a host without sysfs) has no list: nothing counts as virtual.
    let virtual_net = get("virtual").unwrap_or("");
    let (net_rx_bytes, net_tx_bytes) = parse_net_dev(get("net")?, virtual_net);
    let disks = parse_df(get("df")?);
    Ok(Reading {
        cpu,
        mem_total_kib,
        mem_available_kib,
        load1,
        net_rx_bytes,
        net_tx_bytes,
        disks,
    })
}

/// (name, body) for every marked section; the `end` marker must be there.
fn split_sections(text: &str) -> Result<Vec<(&str, String)>, ProbeError> {
    let mut sections: Vec<(&str, String)> = Vec::new();
    let mut ended = false;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix(MARK) {
            let name = name.trim();
            if name == "end" {
                ended = true;
                break;
            }
            sections.push((name, String::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    if sections.is_empty() {
        return Err(ProbeError::Garbled("no section markers".to_string()));
    }
    if !ended {
        return Err(ProbeError::Garbled(
            "no end marker (output cut short?)".to_string(),
        ));
    }
    Ok(sections)
}

fn parse_stat(text: &str) -> Result<CpuTimes, ProbeError> {
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some("cpu"))
        .ok_or_else(|| ProbeError::Garbled("/proc/stat has no `cpu` line".to_string()))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| {
            f.parse()
                .map_err(|_| ProbeError::Garbled(format!("/proc/stat: `{f}` is not a count")))
        })
        .collect::<Result<_, _>>()?;
    if fields.len() < 4 {
        return Err(ProbeError::Garbled(
            "/proc/stat: the `cpu` line has fewer than 4 fields".to_string(),
        ));
    }
    // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is
    // already counted in user and nice, so it is left out of the sum.
    let at = |i: usize| fields.get(i).copied().unwrap_or(0);
    let idle = at(3) + at(4);
    let busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
    Ok(CpuTimes { busy, idle })
}

fn parse_meminfo(text: &str) -> Result<(u64, u64), ProbeError> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
    };
    let total = field("MemTotal")
        .ok_or_else(|| ProbeError::Garbled("/proc/meminfo has no MemTotal".to_string()))?;
    // Kernels before 3.14 have no MemAvailable: free + buffers + cached is the old estimate.
    let available = field("MemAvailable").unwrap_or_else(|| {
        field("MemFree").unwrap_or(0) + field("Buffers").unwrap_or(0) + field("Cached").unwrap_or(0)
    });
    Ok((total, available.min(total)))
}

fn parse_loadavg(text: &str) -> Result<f64, ProbeError> {
    let first = text.split_whitespace().next().unwrap_or("");
    match first.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(ProbeError::Garbled(format!(
            "/proc/loadavg: `{first}` is not a load"
        ))),
    }
}

/// Received and sent bytes over the counted interfaces; unreadable lines are skipped.
fn parse_net_dev(text: &str, virtual_net: &str) -> (u64, u64) {
    let mut counters: Vec<(&str, u64, u64)> = Vec::new();
    for line in text.lines() {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let fields: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        if fields.len() >= 9 {
            counters.push((name.trim(), fields[0], fields[8]));
        }
    }
    let virtual_names: Vec<&str> = virtual_net.split_whitespace().collect();
    let counted = counted_interfaces(counters.iter().map(|(name, _, _)| *name), |n| {
        virtual_names.contains(&n)
    });
    counters
        .iter()
        .filter(|(name, _, _)| counted.contains(name))
        .fold((0u64, 0u64), |(rx, tx), (_, r, t)| {
            (rx.saturating_add(*r), tx.saturating_add(*t))
        })
}

/// File systems of `df -P -k` that are storage (`select::is_storage`), then the rule every
/// source shares (`select::real_mounts`: no pseudo mounts, each file system once).
fn parse_df(text: &str) -> Vec<Mount> {
    let mounts = text.lines().skip(1).filter_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 6 {
            return None;
        }
        let device = fields[0];
        if !is_storage(device) {
            return None;
        }
        let size_kib = fields[1].parse::<u64>().ok()?;
        let available_kib = fields[3].parse::<u64>().ok()?;
        Some(Mount {
            device: device.to_string(),
            // df -P does not say; the device and size tell bind mounts apart well enough.
            fs: String::new(),
            // A mount point with spaces spans the rest of the line.
            mount: fields[5..].join(" "),
            total: size_kib.saturating_mul(1024),
            available: available_kib.saturating_mul(1024),
        })
    });
    real_mounts(mounts)
}

#[cfg(test)]
mod tests;
