//! The agent's metrics sampler (sysinfo): CPU, memory, disk, load, uptime, network.

use std::path::Path;
use std::time::{Duration, Instant};

use sysinfo::{Disks, Networks, System};

use crate::metrics::select::{Mount, counted_interfaces, real_mounts};
use crate::protocol::{DiskUsage, Metrics};

/// Where Linux puts network interfaces that have no hardware behind them.
const VIRTUAL_NET_DEVICES: &str = "/sys/devices/virtual/net/";

/// Takes [`Metrics`] samples. Keeps the previous CPU and network counters, so CPU % and the
/// network rates are averages over the time since the previous sample (for the first sample:
/// since [`Sampler::new`]). Network rates leave out loopback and, where the host has
/// hardware interfaces, virtual ones (bridges, veths), so no packet is counted twice.
///
/// [`Sampler::sample`] reads `/proc` and calls `statvfs` on each mount, and may sleep up to
/// [`sysinfo::MINIMUM_CPU_UPDATE_INTERVAL`] (200 ms on Linux): it blocks briefly, so call it
/// from a blocking thread (`tokio::task::spawn_blocking`), not on an async worker. It is cheap
/// enough for every few seconds (a few milliseconds of CPU on a typical host).
pub struct Sampler {
    sys: System,
    disks: Disks,
    networks: Networks,
    /// When the CPU and network counters were last read.
    last_refresh: Instant,
}

impl Sampler {
    /// Reads the baseline counters. The CPU % of the first [`sample`](Self::sample) is
    /// measured from here: if `sample` comes sooner than the minimum interval sysinfo needs
    /// between two CPU readings, it sleeps the difference, so the first sample is a real
    /// measurement rather than 0.
    pub fn new() -> Sampler {
        let mut sys = System::new();
        sys.refresh_cpu_usage();
        Sampler {
            sys,
            disks: Disks::new_with_refreshed_list(),
            networks: Networks::new_with_refreshed_list(),
            last_refresh: Instant::now(),
        }
    }

    /// A sample now; see the type's documentation for what blocks.
    pub fn sample(&mut self) -> Metrics {
        let since = self.last_refresh.elapsed();
        if since < sysinfo::MINIMUM_CPU_UPDATE_INTERVAL {
            std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL - since);
        }
        self.sys.refresh_cpu_usage();
        self.networks.refresh(true);
        let elapsed = self.last_refresh.elapsed();
        self.last_refresh = Instant::now();

        self.sys.refresh_memory();
        // `true`: mounts that went away are dropped; new ones are picked up either way.
        self.disks.refresh(true);

        let load = System::load_average();
        let counted = counted_interfaces(self.networks.keys().map(String::as_str), is_virtual);
        let (rx, tx) = self
            .networks
            .iter()
            .filter(|(name, _)| counted.contains(name.as_str()))
            .fold((0u64, 0u64), |(rx, tx), (_, data)| {
                (
                    rx.saturating_add(data.received()),
                    tx.saturating_add(data.transmitted()),
                )
            });
        let cpu = self.sys.global_cpu_usage();
        Metrics {
            cpu_pct: if cpu.is_finite() {
                cpu.clamp(0.0, 100.0)
            } else {
                0.0
            },
            mem_used_bytes: self.sys.used_memory(),
            mem_total_bytes: self.sys.total_memory(),
            swap_used_bytes: self.sys.used_swap(),
            swap_total_bytes: self.sys.total_swap(),
            load1: load.one,
            load5: load.five,
            load15: load.fifteen,
            uptime_s: System::uptime(),
            // The same selection as every other source (metrics::select).
            disks: real_mounts(self.disks.iter().map(|d| Mount {
                device: d.name().to_string_lossy().into_owned(),
                fs: d.file_system().to_string_lossy().into_owned(),
                mount: d.mount_point().to_string_lossy().into_owned(),
                total: d.total_space(),
                available: d.available_space(),
            }))
            .into_iter()
            .map(|m| DiskUsage {
                used_bytes: m.used(),
                total_bytes: m.total,
                mount: m.mount,
            })
            .collect(),
            net_rx_bytes_per_s: per_second(rx, elapsed),
            net_tx_bytes_per_s: per_second(tx, elapsed),
        }
    }
}

impl Default for Sampler {
    fn default() -> Self {
        Sampler::new()
    }
}

/// Whether `/sys/class/net/NAME` leads to a virtual device (bridge, veth, tun, bond …).
/// Unknown (no sysfs) counts as physical, so nothing is left out by mistake.
fn is_virtual(name: &str) -> bool {
    std::fs::canonicalize(Path::new("/sys/class/net").join(name))
        .is_ok_and(|p| p.starts_with(VIRTUAL_NET_DEVICES))
}

/// `bytes` over `elapsed` as a whole number per second.
fn per_second(bytes: u64, elapsed: Duration) -> u64 {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 {
        return 0;
    }
    // A float-to-int `as` saturates; rates are far below 2^53 in practice.
    (bytes as f64 / secs).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plausible(m: &Metrics) {
        assert!(m.mem_total_bytes > 0, "{m:?}");
        assert!(m.mem_used_bytes <= m.mem_total_bytes, "{m:?}");
        assert!(m.swap_used_bytes <= m.swap_total_bytes, "{m:?}");
        assert!(m.uptime_s > 0, "{m:?}");
        assert!((0.0..=100.0).contains(&m.cpu_pct), "{m:?}");
        assert!(m.load1 >= 0.0 && m.load5 >= 0.0 && m.load15 >= 0.0, "{m:?}");
        for d in &m.disks {
            assert!(d.total_bytes > 0 && d.used_bytes <= d.total_bytes, "{d:?}");
            assert!(
                !d.mount.starts_with("/proc") && !d.mount.starts_with("/sys"),
                "{d:?}"
            );
        }
        let mut mounts: Vec<&str> = m.disks.iter().map(|d| d.mount.as_str()).collect();
        mounts.dedup();
        assert_eq!(mounts.len(), m.disks.len(), "no mount listed twice: {m:?}");
    }

    #[test]
    fn samples_are_plausible_on_this_machine_and_repeat() {
        let mut sampler = Sampler::new();
        let first = sampler.sample();
        plausible(&first);
        // Every Linux machine we run on has a root file system that statvfs can measure.
        assert!(
            first.disks.iter().any(|d| d.mount == "/"),
            "root file system missing: {:?}",
            first.disks
        );
        let second = sampler.sample();
        plausible(&second);
        assert!(second.uptime_s >= first.uptime_s);
        assert_eq!(second.mem_total_bytes, first.mem_total_bytes);
    }

    #[test]
    fn a_busy_cpu_shows_up_in_cpu_pct() {
        let mut sampler = Sampler::new();
        // Keep one core busy between two samples; on 2 cores that is about 50% overall.
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(400) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let m = sampler.sample();
        assert!(m.cpu_pct > 0.0, "a spinning thread gave {m:?}");
    }

    #[test]
    fn loopback_is_virtual_here() {
        // The selection rule itself is tested in metrics::select.
        assert!(is_virtual("lo"));
    }

    #[test]
    fn rates_are_per_second() {
        assert_eq!(per_second(1000, Duration::from_millis(500)), 2000);
        assert_eq!(per_second(1000, Duration::ZERO), 0);
    }
}
