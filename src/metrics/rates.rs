//! A host's sample from two readings of its counters: CPU busy share and network rates from
//! the deltas, memory, load and the fullest disk from the newer one. A counter that went
//! backwards (the host rebooted, an interface was reset) gives no rate for that interval
//! instead of a huge or negative one.

use std::time::Duration;

use super::probe::Reading;

/// What one interval says about a host, in the units the views and `--json` use.
#[derive(Debug, Clone, PartialEq)]
pub struct HostSample {
    /// `None` when no CPU time passed or a counter went backwards.
    pub cpu_pct: Option<f64>,
    pub mem_pct: f64,
    /// The fullest real filesystem; `None` when the host has none df reports.
    pub disk_pct: Option<f64>,
    pub load1: f64,
    pub net_rx_bps: Option<f64>,
    pub net_tx_bps: Option<f64>,
}

/// The sample between `earlier` and `later`, taken `elapsed` apart.
pub fn sample_between(earlier: &Reading, later: &Reading, elapsed: Duration) -> HostSample {
    let busy = later.cpu.busy.checked_sub(earlier.cpu.busy);
    let idle = later.cpu.idle.checked_sub(earlier.cpu.idle);
    let cpu_pct = match (busy, idle) {
        (Some(busy), Some(idle)) if busy + idle > 0 => {
            Some(busy as f64 * 100.0 / (busy + idle) as f64)
        }
        _ => None,
    };
    let secs = elapsed.as_secs_f64();
    let rate = |before: u64, after: u64| {
        let delta = after.checked_sub(before)?;
        (secs > 0.0).then(|| delta as f64 / secs)
    };
    HostSample {
        cpu_pct,
        mem_pct: later.mem_pct(),
        disk_pct: later.fullest_disk().map(super::select::Mount::used_pct),
        load1: later.load1,
        net_rx_bps: rate(earlier.net_rx_bytes, later.net_rx_bytes),
        net_tx_bps: rate(earlier.net_tx_bytes, later.net_tx_bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::probe::CpuTimes;
    use crate::metrics::select::Mount;

    fn reading(busy: u64, idle: u64, rx: u64, tx: u64) -> Reading {
        Reading {
            cpu: CpuTimes { busy, idle },
            mem_total_kib: 1000,
            mem_available_kib: 250,
            load1: 0.5,
            net_rx_bytes: rx,
            net_tx_bytes: tx,
            disks: vec![
                Mount {
                    device: "/dev/vda".into(),
                    fs: String::new(),
                    mount: "/".into(),
                    total: 100,
                    available: 70,
                },
                Mount {
                    device: "/dev/vdb".into(),
                    fs: String::new(),
                    mount: "/var".into(),
                    total: 100,
                    available: 10,
                },
            ],
        }
    }

    #[test]
    fn rates_come_from_deltas_and_levels_from_the_newer_reading() {
        let a = reading(100, 300, 1_000, 5_000);
        let b = reading(175, 325, 3_000, 5_500);
        let s = sample_between(&a, &b, Duration::from_secs(2));
        assert_eq!(s.cpu_pct, Some(75.0));
        assert_eq!(s.mem_pct, 75.0);
        assert_eq!(s.disk_pct, Some(90.0));
        assert_eq!(s.net_rx_bps, Some(1_000.0));
        assert_eq!(s.net_tx_bps, Some(250.0));
    }

    #[test]
    fn a_counter_that_went_backwards_gives_no_rate() {
        let before_reboot = reading(10_000, 90_000, 1 << 40, 1 << 40);
        let after_reboot = reading(50, 400, 2_000, 1_000);
        let s = sample_between(&before_reboot, &after_reboot, Duration::from_secs(15));
        assert_eq!(s.cpu_pct, None);
        assert_eq!(s.net_rx_bps, None);
        assert_eq!(s.net_tx_bps, None);
        // Levels are still good.
        assert_eq!(s.mem_pct, 75.0);
        // No time passed: no rates either.
        let s = sample_between(&after_reboot, &after_reboot, Duration::ZERO);
        assert_eq!((s.cpu_pct, s.net_rx_bps), (None, None));
    }
}
