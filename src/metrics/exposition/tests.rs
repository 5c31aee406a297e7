//! The exposition mapping on a scrape captured from the real node_exporter 1.5.0 (Debian 12,
//! trimmed to the families it reads plus a few it skips) and on crafted bad input.

use super::*;

/// Captured with `prometheus-node-exporter --web.listen-address=127.0.0.1:PORT` and curl.
const CAPTURED: &str = include_str!("../../../tests/fixtures/node_exporter/node-1.5.0.txt");

/// The same capture untrimmed (283 families), as an exporter really answers.
const CAPTURED_FULL: &str = include_str!("../../../tests/fixtures/node_exporter/full-1.5.0.txt");

/// A small exporter answer with the required families, plus `extra` lines.
fn crafted(extra: &str) -> String {
    format!(
        "# TYPE node_cpu_seconds_total counter\n\
         node_cpu_seconds_total{{cpu=\"0\",mode=\"idle\"}} 10\n\
         node_cpu_seconds_total{{cpu=\"0\",mode=\"user\"}} 3\n\
         node_memory_MemTotal_bytes 4096\n\
         node_memory_MemAvailable_bytes 1024\n\
         node_load1 0.5\n\
         {extra}"
    )
}

fn parse(text: &str) -> ExporterReading {
    match parse_exposition(text) {
        Ok(r) => r,
        Err(e) => panic!("parse failed: {e}\n{text}"),
    }
}

#[test]
fn a_captured_scrape_maps_to_the_probes_fields() {
    let got = parse(CAPTURED);
    assert_eq!(got.unknown, UnknownFigures::default());
    let r = &got.reading;
    // Centiseconds: idle + iowait of both CPUs; busy is user, nice, system, irq, softirq, steal.
    assert_eq!(r.cpu.idle, 317_292 + 7_747 + 265_450 + 12_309);
    assert_eq!(
        r.cpu.busy,
        (540_407 + 52_395 + 100_170 + 193 + 1_684) + (575_492 + 54_650 + 109_300 + 1_245 + 1_699)
    );
    assert_eq!(r.mem_total_kib, 25_276_182_528 / 1024);
    assert_eq!(r.mem_available_kib, 24_321_720_320 / 1024);
    assert_eq!(r.load1, 1.03);
    // ifb0 and ifb1 are virtual: eth0 alone counts.
    assert_eq!((r.net_rx_bytes, r.net_tx_bytes), (158_899_074, 503_732));
    assert_eq!(
        r.disks,
        [Mount {
            device: "/dev/vda".into(),
            fs: "ext4".into(),
            mount: "/".into(),
            total: 270_553_174_016,
            available: 3_782_795_264,
        }]
    );
    // The whole answer reads the same: the other 270 families are skipped.
    assert_eq!(parse(CAPTURED_FULL), got);
}

#[test]
fn guest_time_is_not_counted_twice() {
    let got = parse(&crafted(
        "node_cpu_seconds_total{cpu=\"0\",mode=\"iowait\"} 2\n\
         node_cpu_seconds_total{cpu=\"0\",mode=\"steal\"} 1\n\
         node_cpu_seconds_total{cpu=\"0\",mode=\"guest\"} 50\n\
         node_cpu_seconds_total{cpu=\"0\",mode=\"guest_nice\"} 50\n",
    ));
    assert_eq!(
        got.reading.cpu,
        CpuTimes {
            busy: 400,
            idle: 1200
        }
    );
}

#[test]
fn network_counts_hardware_interfaces_by_name() {
    let text = crafted(
        "node_network_receive_bytes_total{device=\"lo\"} 1000000\n\
         node_network_receive_bytes_total{device=\"eth0\"} 100\n\
         node_network_receive_bytes_total{device=\"ens4\"} 20\n\
         node_network_receive_bytes_total{device=\"docker0\"} 7000\n\
         node_network_receive_bytes_total{device=\"veth1a2b\"} 7000\n\
         node_network_receive_bytes_total{device=\"br-0f3c\"} 7000\n\
         node_network_transmit_bytes_total{device=\"lo\"} 1000000\n\
         node_network_transmit_bytes_total{device=\"eth0\"} 5\n\
         node_network_transmit_bytes_total{device=\"ens4\"} 1\n\
         node_network_transmit_bytes_total{device=\"docker0\"} 7000\n",
    );
    let r = parse(&text).reading;
    assert_eq!((r.net_rx_bytes, r.net_tx_bytes), (120, 6));
    // Inside a container every link is virtual: all but loopback count.
    let text = crafted(
        "node_network_receive_bytes_total{device=\"lo\"} 1000\n\
         node_network_receive_bytes_total{device=\"veth0\"} 30\n\
         node_network_transmit_bytes_total{device=\"veth0\"} 40\n",
    );
    let r = parse(&text).reading;
    assert_eq!((r.net_rx_bytes, r.net_tx_bytes), (30, 40));
}

#[test]
fn file_systems_are_storage_each_counted_once() {
    let fs = |device: &str, fstype: &str, mount: &str, size: &str, avail: &str| {
        format!(
            "node_filesystem_size_bytes{{device=\"{device}\",fstype=\"{fstype}\",mountpoint=\"{mount}\"}} {size}\n\
             node_filesystem_avail_bytes{{device=\"{device}\",fstype=\"{fstype}\",mountpoint=\"{mount}\"}} {avail}\n"
        )
    };
    let text = crafted(
        &[
            fs("/dev/sda1", "ext4", "/", "1000", "250"),
            fs("/dev/sda1", "ext4", "/srv/bind", "1000", "250"),
            fs("/dev/sdb", "xfs", "/data", "2e3", "2000"),
            fs("tmpfs", "tmpfs", "/tmp", "500", "500"),
            fs("/dev/loop0", "squashfs", "/snap/core/1", "100", "0"),
            fs("/dev/sdc", "ext4", "/broken", "NaN", "1"),
            fs("/dev/sdd", "ext4", "/full", "100", "-5"),
        ]
        .concat(),
    );
    let r = parse(&text).reading;
    let shown: Vec<(&str, &str, u64, u64)> = r
        .disks
        .iter()
        .map(|m| (m.mount.as_str(), m.fs.as_str(), m.total, m.available))
        .collect();
    assert_eq!(
        shown,
        [("/", "ext4", 1000, 250), ("/data", "xfs", 2000, 2000)]
    );
    assert_eq!(r.fullest_disk().map(Mount::used_pct), Some(75.0));
}

#[test]
fn old_kernels_without_mem_available_use_free_buffers_and_cached() {
    let text = "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 1\n\
                node_memory_MemTotal_bytes 10240\n\
                node_memory_MemFree_bytes 1024\n\
                node_memory_Buffers_bytes 1024\n\
                node_memory_Cached_bytes 2048\n\
                node_load1 0\n";
    let r = parse(text).reading;
    assert_eq!((r.mem_total_kib, r.mem_available_kib), (10, 4));
}

#[test]
fn nan_inf_and_negative_values_make_their_figure_unknown_never_a_number() {
    let text = "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 10\n\
                node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} NaN\n\
                node_memory_MemTotal_bytes +Inf\n\
                node_memory_MemAvailable_bytes 1024\n\
                node_load1 -Inf\n\
                node_network_receive_bytes_total{device=\"eth0\"} +Inf\n\
                node_network_transmit_bytes_total{device=\"eth0\"} 5\n";
    let got = parse(text);
    assert_eq!(
        got.unknown,
        UnknownFigures {
            cpu: true,
            mem: true,
            load: true,
            net: true
        }
    );
    let r = got.reading;
    assert_eq!(r.cpu, CpuTimes::default());
    assert_eq!((r.mem_total_kib, r.load1, r.net_rx_bytes), (0, 0.0, 0));
    // A NaN in a family nothing reads is no concern.
    let got = parse(&crafted("node_hwmon_temp_celsius{chip=\"x\"} NaN\n"));
    assert_eq!(got.unknown, parse(&crafted("")).unknown);
}

#[test]
fn absent_network_and_file_system_families_give_a_partial_reading() {
    let got = parse(&crafted(""));
    assert_eq!(
        got.unknown,
        UnknownFigures {
            net: true,
            ..UnknownFigures::default()
        }
    );
    assert!(got.reading.disks.is_empty());
    assert_eq!(got.reading.mem_pct(), 75.0);
}

#[test]
fn missing_required_families_are_named() {
    let err = parse_exposition(
        "# HELP process_cpu_seconds_total Total user and system CPU time.\n\
         process_cpu_seconds_total 1.5\ngo_goroutines 8\n",
    )
    .err();
    let Some(err) = err else {
        panic!("a Go process's own metrics read as a node_exporter");
    };
    assert_eq!(
        err,
        ExpositionError::Missing(vec![CPU, MEM_TOTAL, LOAD1]),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "no node_cpu_seconds_total, node_memory_MemTotal_bytes, node_load1: is this a node_exporter?"
    );
    let no_load = crafted("").replace("node_load1 0.5\n", "");
    let err = parse_exposition(&no_load).err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("no node_load1: is a collector of the exporter turned off?")
    );
}

#[test]
fn html_json_binary_and_empty_answers_are_not_prometheus_text() {
    let html = "<!DOCTYPE html>\n<html><head><title>Node Exporter</title></head>\n\
                <body><h1>Node Exporter</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n";
    let binary = String::from_utf8_lossy(&[0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x13]);
    for bad in [
        html,
        "\n\n  <?xml version=\"1.0\"?><metrics/>",
        "{\"status\":\"success\",\"data\":{\"result\":[]}}",
        binary.as_ref(),
        "",
        "# HELP only comments\n# TYPE here gauge\n",
        "Service Unavailable\nplease retry later\n",
    ] {
        match parse_exposition(bad) {
            Err(ExpositionError::NotPrometheus(why)) => {
                assert!(!why.is_empty());
                assert!(
                    ExpositionError::NotPrometheus(why)
                        .to_string()
                        .starts_with("not Prometheus text: ")
                );
            }
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
}

#[test]
fn hostile_lines_do_not_panic() {
    let long_name = "a".repeat(100_000);
    for text in [
        crafted("node_filesystem_size_bytes{device=\"/dev/sda\",mountpoint=\"/a,b=c\"} 1\n"),
        crafted("node_network_receive_bytes_total{device=\"eth0\"} 1e400\n"),
        crafted("node_network_receive_bytes_total{device=} 1\n{{{{ }}}} 3\n"),
        crafted(&format!("{long_name} 1\n{long_name}{{x=\"y\"}} NaN\n")),
        crafted("node_load1 0.5 not-a-timestamp extra fields\n"),
        crafted("node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 1.8e308\n"),
    ] {
        let _ = parse_exposition(&text);
    }
}
