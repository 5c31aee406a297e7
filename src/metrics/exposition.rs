//! A node_exporter scrape (the Prometheus text exposition format, read by the
//! `prometheus-parse` crate) mapped to the probe's `Reading`, so an exporter host reads the
//! same as an SSH or agent host. Pure: the text comes from `scrape.rs` or a test.
//!
//! What a scrape must hold, and what it may lack:
//! - `node_cpu_seconds_total`, `node_memory_MemTotal_bytes` and `node_load1` (the cpu, meminfo
//!   and loadavg collectors, on by default) are required: without them the endpoint is not a
//!   node_exporter, or one configured so differently that its figures would mislead, and the
//!   error names what is missing.
//! - The network (`node_network_*_bytes_total`) and file-system (`node_filesystem_*_bytes`)
//!   families may be absent (collector turned off): the reading is partial, its network
//!   figures marked unknown and its disk list empty.
//! - A NaN, an Inf or a negative value never becomes a number: the figure it feeds is marked
//!   unknown for that scrape (a file system with one is left out).
//!
//! The crate splits label pairs on `,` and `=` without unescaping, so a mount point or device
//! holding one of those or a `"` reads garbled or is left out; never a panic.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use prometheus_parse::{Sample as PromSample, Scrape, Value};

use super::probe::{CpuTimes, Reading};
use super::select::{
    Mount, counted_interfaces, is_storage, is_virtual_interface_name, real_mounts,
};

const CPU: &str = "node_cpu_seconds_total";
const MEM_TOTAL: &str = "node_memory_MemTotal_bytes";
const MEM_AVAILABLE: &str = "node_memory_MemAvailable_bytes";
const MEM_FREE: &str = "node_memory_MemFree_bytes";
const BUFFERS: &str = "node_memory_Buffers_bytes";
const CACHED: &str = "node_memory_Cached_bytes";
const LOAD1: &str = "node_load1";
const NET_RX: &str = "node_network_receive_bytes_total";
const NET_TX: &str = "node_network_transmit_bytes_total";
const FS_SIZE: &str = "node_filesystem_size_bytes";
const FS_AVAIL: &str = "node_filesystem_avail_bytes";

/// CPU seconds are kept as centiseconds: whole numbers like /proc/stat's ticks, and only the
/// ratio of busy to all time matters.
const CPU_TICKS_PER_SECOND: f64 = 100.0;

/// A scrape mapped to a `Reading`, with the figures it could not give.
#[derive(Debug, Clone, PartialEq)]
pub struct ExporterReading {
    pub reading: Reading,
    /// Figures that are zero in `reading` because the scrape did not give them.
    pub unknown: UnknownFigures,
}

/// Which figures of a reading are unknown (a family absent, or holding NaN, Inf or a negative
/// value); a sample leaves them out instead of showing zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnknownFigures {
    pub cpu: bool,
    pub mem: bool,
    pub load: bool,
    pub net: bool,
}

/// Why a scrape's text gave no reading. Its `Display` is short enough for a table cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpositionError {
    /// Not the text exposition format at all (an HTML page, JSON, binary, nothing).
    NotPrometheus(String),
    /// Prometheus text without the families a reading needs (their names).
    Missing(Vec<&'static str>),
}

impl fmt::Display for ExpositionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpositionError::NotPrometheus(why) => write!(f, "not Prometheus text: {why}"),
            ExpositionError::Missing(names) => {
                let list = names.join(", ");
                if names.contains(&CPU) {
                    write!(f, "no {list}: is this a node_exporter?")
                } else {
                    write!(f, "no {list}: is a collector of the exporter turned off?")
                }
            }
        }
    }
}

impl std::error::Error for ExpositionError {}

/// Parses a node_exporter scrape into a reading.
pub fn parse_exposition(text: &str) -> Result<ExporterReading, ExpositionError> {
    let first = text.trim_start().chars().next();
    if first == Some('<') {
        return Err(ExpositionError::NotPrometheus(
            "an HTML or XML page (does the URL end in /metrics?)".to_string(),
        ));
    }
    let scrape = parse_lines(text.lines().filter(|l| is_used(l)))?;
    // Nothing a reading uses: the whole text tells another exporter from no Prometheus text.
    if scrape.samples.is_empty() && parse_lines(text.lines())?.samples.is_empty() {
        return Err(ExpositionError::NotPrometheus(
            "no metric samples in it".to_string(),
        ));
    }
    let families = Families::of(&scrape.samples);
    let missing: Vec<&'static str> = [CPU, MEM_TOTAL, LOAD1]
        .into_iter()
        .filter(|name| !families.has(name))
        .collect();
    if !missing.is_empty() {
        return Err(ExpositionError::Missing(missing));
    }

    let mut unknown = UnknownFigures::default();
    let cpu = cpu_times(&families).unwrap_or_else(|| {
        unknown.cpu = true;
        CpuTimes::default()
    });
    let (mem_total_kib, mem_available_kib) = memory(&families).unwrap_or_else(|| {
        unknown.mem = true;
        (0, 0)
    });
    let load1 = families
        .single(LOAD1)
        .filter(|v| v.is_finite() && *v >= 0.0)
        .unwrap_or_else(|| {
            unknown.load = true;
            0.0
        });
    let (net_rx_bytes, net_tx_bytes) = network(&families).unwrap_or_else(|| {
        unknown.net = true;
        (0, 0)
    });
    Ok(ExporterReading {
        reading: Reading {
            cpu,
            mem_total_kib,
            mem_available_kib,
            load1,
            net_rx_bytes,
            net_tx_bytes,
            disks: disks(&families),
        },
        unknown,
    })
}

/// The families a reading uses.
const USED: [&str; 11] = [
    CPU,
    MEM_TOTAL,
    MEM_AVAILABLE,
    MEM_FREE,
    BUFFERS,
    CACHED,
    LOAD1,
    NET_RX,
    NET_TX,
    FS_SIZE,
    FS_AVAIL,
];

/// Whether a line is a sample of a family a reading uses. Only those go through the crate:
/// its regexes cost about a microsecond a line, and of a node_exporter's ~1,000 lines some 50
/// are read. TYPE lines are not needed: every family used is a counter or a gauge.
fn is_used(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("node_")
        && USED.iter().any(|name| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(['{', ' ', '\t']))
        })
}

fn parse_lines<'t>(lines: impl Iterator<Item = &'t str>) -> Result<Scrape, ExpositionError> {
    Scrape::parse(lines.map(|l| Ok(l.to_string()))).map_err(|e| {
        ExpositionError::NotPrometheus(format!("cannot read the exposition text: {e}"))
    })
}

/// The samples of the families a reading uses, by family name; the rest are skipped.
struct Families<'a> {
    by_name: BTreeMap<&'a str, Vec<&'a PromSample>>,
}

impl<'a> Families<'a> {
    fn of(samples: &'a [PromSample]) -> Families<'a> {
        let mut by_name: BTreeMap<&str, Vec<&PromSample>> = BTreeMap::new();
        for s in samples {
            if let Some(name) = USED.iter().find(|n| **n == s.metric) {
                by_name.entry(*name).or_default().push(s);
            }
        }
        Families { by_name }
    }

    fn has(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    fn samples(&self, name: &str) -> &[&'a PromSample] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// The value of an unlabelled family (the first sample, should there be several).
    fn single(&self, name: &str) -> Option<f64> {
        self.samples(name).first().and_then(|s| scalar(s))
    }
}

/// A counter's, gauge's or untyped sample's value (histograms and summaries have none).
fn scalar(s: &PromSample) -> Option<f64> {
    match s.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(v),
        Value::Histogram(_) | Value::Summary(_) => None,
    }
}

/// `v * scale` as a whole count, if `v` is a finite, non-negative number.
fn count(v: f64, scale: f64) -> Option<u64> {
    // A float-to-int `as` saturates, so a huge value cannot wrap.
    (v.is_finite() && v >= 0.0).then(|| (v * scale).round() as u64)
}

/// Busy and idle time over all CPUs, as /proc/stat's `cpu` line splits them: idle and iowait
/// are idle; guest time is already counted in user and nice, so it is left out.
fn cpu_times(f: &Families) -> Option<CpuTimes> {
    let mut times = CpuTimes::default();
    for s in f.samples(CPU) {
        let mode = s.labels.get("mode").unwrap_or("");
        if matches!(mode, "guest" | "guest_nice") {
            continue;
        }
        let ticks = count(scalar(s)?, CPU_TICKS_PER_SECOND)?;
        let slot = if matches!(mode, "idle" | "iowait") {
            &mut times.idle
        } else {
            &mut times.busy
        };
        *slot = slot.saturating_add(ticks);
    }
    Some(times)
}

/// (MemTotal, MemAvailable) in KiB. Kernels before 3.14 have no MemAvailable: free + buffers +
/// cached is the old estimate, as in the probe.
fn memory(f: &Families) -> Option<(u64, u64)> {
    let kib = |name: &str| f.single(name).and_then(|v| count(v, 1.0 / 1024.0));
    let total = kib(MEM_TOTAL)?;
    let available = match f.single(MEM_AVAILABLE) {
        Some(v) => count(v, 1.0 / 1024.0)?,
        None => kib(MEM_FREE)?
            .saturating_add(kib(BUFFERS).unwrap_or(0))
            .saturating_add(kib(CACHED).unwrap_or(0)),
    };
    Some((total, available.min(total)))
}

/// Bytes received and sent over the counted interfaces (`select::counted_interfaces`, with
/// virtual links told apart by name). `None` when either family is absent or a counted
/// interface's counter is not a number.
fn network(f: &Families) -> Option<(u64, u64)> {
    if !f.has(NET_RX) || !f.has(NET_TX) {
        return None;
    }
    let names: BTreeSet<&str> = f
        .samples(NET_RX)
        .iter()
        .chain(f.samples(NET_TX))
        .filter_map(|s| s.labels.get("device"))
        .collect();
    let counted = counted_interfaces(names.into_iter(), is_virtual_interface_name);
    let sum = |family: &str| {
        f.samples(family)
            .iter()
            .filter(|s| s.labels.get("device").is_some_and(|d| counted.contains(d)))
            .try_fold(0u64, |total, s| {
                Some(total.saturating_add(count(scalar(s)?, 1.0)?))
            })
    };
    Some((sum(NET_RX)?, sum(NET_TX)?))
}

/// File systems with both a size and an available figure, that are storage
/// (`select::is_storage`), then the rule every source shares (`select::real_mounts`).
fn disks(f: &Families) -> Vec<Mount> {
    let key = |s: &PromSample| -> Option<(String, String, String)> {
        Some((
            s.labels.get("device")?.to_string(),
            s.labels.get("fstype").unwrap_or("").to_string(),
            s.labels.get("mountpoint")?.to_string(),
        ))
    };
    let available: BTreeMap<(String, String, String), u64> = f
        .samples(FS_AVAIL)
        .iter()
        .filter_map(|s| Some((key(s)?, count(scalar(s)?, 1.0)?)))
        .collect();
    let mounts = f.samples(FS_SIZE).iter().filter_map(|s| {
        let key = key(s)?;
        let total = count(scalar(s)?, 1.0)?;
        let available = *available.get(&key)?;
        let (device, fs, mount) = key;
        is_storage(&device).then_some(Mount {
            device,
            fs,
            mount,
            total,
            available: available.min(total),
        })
    });
    real_mounts(mounts)
}

#[cfg(test)]
mod tests;
