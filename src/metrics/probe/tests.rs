//! The probe's parser on recorded shapes (a banner, a host without /proc, output cut short,
//! something else answering) and on this machine's own /proc, read through the real probe.

use std::time::{Duration, Instant};

use super::*;
use crate::metrics::sample_between;

/// What the probe prints on a small Linux host, after a login banner.
fn recorded() -> String {
    format!(
        "Welcome to web01!\nLast login: yesterday\n\
         {MARK} stat\n\
         cpu  100 20 30 400 50 0 5 0 7 0\ncpu0 100 20 30 400 50 0 5 0 7 0\nintr 1 2 3\n\
         {MARK} meminfo\n\
         MemTotal:        2000000 kB\nMemFree:          100000 kB\nMemAvailable:     500000 kB\n\
         {MARK} loadavg\n\
         0.42 0.30 0.20 1/100 4242\n\
         {MARK} net\n\
         Inter-|   Receive                                                |  Transmit\n \
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
         lo: 999 9 0 0 0 0 0 0 999 9 0 0 0 0 0 0\n  \
         eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n  \
         eth1: 500 5 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n  \
         docker0: 7000 70 0 0 0 0 0 0 7000 70 0 0 0 0 0 0\n\
         {MARK} virtual\n\
         lo\n\
         docker0\n\
         {MARK} df\n\
         Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
         /dev/sda1         1000000   250000    750000      25% /\n\
         tmpfs              100000        0    100000       0% /run\n\
         /dev/loop3          50000    50000         0     100% /snap/core/1\n\
         /dev/sdb1          200000   190000     10000      95% /var/lib/my data\n\
         {MARK} end\n"
    )
}

#[test]
fn a_recorded_probe_reads_every_field_past_a_banner() {
    let r = parse_probe(&recorded()).unwrap();
    // user+nice+system+irq+softirq+steal; idle+iowait; guest (7) is inside user already.
    assert_eq!(
        r.cpu,
        CpuTimes {
            busy: 155,
            idle: 450
        }
    );
    assert_eq!((r.mem_total_kib, r.mem_available_kib), (2_000_000, 500_000));
    assert_eq!(r.mem_pct(), 75.0);
    assert_eq!(r.load1, 0.42);
    // Loopback and the virtual bridge left out: the hardware interfaces count.
    assert_eq!((r.net_rx_bytes, r.net_tx_bytes), (1_500, 2_100));
    // tmpfs and loop devices are not real filesystems; a mount with a space stays whole.
    let mounts: Vec<&str> = r.disks.iter().map(|d| d.mount.as_str()).collect();
    assert_eq!(mounts, ["/", "/var/lib/my data"]);
    assert_eq!(
        r.fullest_disk().map(|d| d.mount.as_str()),
        Some("/var/lib/my data")
    );
}

#[test]
fn a_host_without_proc_is_told_apart_from_a_broken_answer() {
    let bsd = format!(
        "{MARK} stat\n{MARK} meminfo\n{MARK} loadavg\n{MARK} net\n{MARK} virtual\n{MARK} df\n\
         Filesystem 1024-blocks Used Available Capacity Mounted on\n{MARK} end\n"
    );
    assert_eq!(parse_probe(&bsd), Err(ProbeError::NoProc));
    assert!(ProbeError::NoProc.to_string().contains("no metrics"));

    let cut = recorded().replace(&format!("{MARK} end\n"), "");
    assert!(matches!(parse_probe(&cut), Err(ProbeError::Garbled(why)) if why.contains("end")));
    let html = "<html><body>502 Bad Gateway</body></html>";
    assert!(matches!(parse_probe(html), Err(ProbeError::Garbled(_))));
    let nan = recorded().replace("0.42 0.30", "NaN 0.30");
    assert!(matches!(parse_probe(&nan), Err(ProbeError::Garbled(why)) if why.contains("loadavg")));
    let no_total = recorded().replace("MemTotal:        2000000 kB\n", "");
    assert!(
        matches!(parse_probe(&no_total), Err(ProbeError::Garbled(why)) if why.contains("MemTotal"))
    );
}

/// Runs the real probe here, as a sampler runs it on a host.
fn probe_here() -> Reading {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(probe_command())
        .output()
        .unwrap();
    assert!(out.status.success());
    parse_probe(&String::from_utf8_lossy(&out.stdout)).unwrap()
}

fn meminfo_field(name: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[test]
fn this_machines_proc_read_through_the_probe_matches_proc() {
    let first = probe_here();
    let started = Instant::now();
    // Some CPU work between the readings, so the interval has busy time.
    let mut x = 0u64;
    while started.elapsed() < Duration::from_millis(200) {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
    }
    std::hint::black_box(x);
    let second = probe_here();
    assert_eq!(second.mem_total_kib, meminfo_field("MemTotal"));
    // MemAvailable moves between reads: within 10% of the total.
    let available = meminfo_field("MemAvailable") as f64;
    let tolerance = second.mem_total_kib as f64 * 0.1;
    assert!((second.mem_available_kib as f64 - available).abs() < tolerance);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap();
    let load1: f64 = load.split_whitespace().next().unwrap().parse().unwrap();
    assert!(
        (second.load1 - load1).abs() < 2.0,
        "{} vs {load1}",
        second.load1
    );
    assert!(second.cpu.busy >= first.cpu.busy && second.cpu.idle >= first.cpu.idle);
    assert!(second.disks.iter().all(|d| d.used() <= d.total));
    let s = sample_between(&first, &second, started.elapsed());
    if let Some(cpu) = s.cpu_pct {
        assert!((0.0..=100.0).contains(&cpu), "{cpu}");
    }
    assert!((0.0..=100.0).contains(&s.mem_pct));
    assert!(s.net_rx_bps.is_some_and(|r| r >= 0.0));
}
