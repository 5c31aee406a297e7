//! This machine's own figures, read from /proc the way the metrics probe reads a host's: what
//! tests compare collected samples with (the "hosts" of the loopback fleets are this machine).

use std::fs;

/// Memory in use now (all but MemAvailable), percent.
pub fn mem_pct_here() -> f64 {
    let text = fs::read_to_string("/proc/meminfo").unwrap();
    let field = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    let (total, avail) = (field("MemTotal:"), field("MemAvailable:"));
    (total - avail) * 100.0 / total
}

/// The 1-minute load average now.
pub fn load1_here() -> f64 {
    fs::read_to_string("/proc/loadavg")
        .unwrap()
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap()
}
