//! Samples from fed scrapes: the first gives levels, the next rates, a counter reset a gap.

use super::*;
use crate::metrics::scrape::{DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT};

const URL: &str = "http://127.0.0.1:9100/metrics";

/// An exporter answer with these counters: idle and user CPU seconds, eth0's bytes.
fn answer(idle: f64, user: f64, rx: f64, tx: f64, load: &str) -> String {
    format!(
        "node_cpu_seconds_total{{cpu=\"0\",mode=\"idle\"}} {idle}\n\
         node_cpu_seconds_total{{cpu=\"0\",mode=\"user\"}} {user}\n\
         node_memory_MemTotal_bytes 4096\n\
         node_memory_MemAvailable_bytes 1024\n\
         node_load1 {load}\n\
         node_network_receive_bytes_total{{device=\"eth0\"}} {rx}\n\
         node_network_transmit_bytes_total{{device=\"eth0\"}} {tx}\n\
         node_filesystem_size_bytes{{device=\"/dev/sda\",fstype=\"ext4\",mountpoint=\"/\"}} 100\n\
         node_filesystem_avail_bytes{{device=\"/dev/sda\",fstype=\"ext4\",mountpoint=\"/\"}} 40\n"
    )
}

fn sampler() -> ExporterSampler {
    match Scraper::new(DEFAULT_TIMEOUT, DEFAULT_MAX_BYTES) {
        Ok(scraper) => ExporterSampler::new(scraper),
        Err(e) => panic!("no HTTP client: {e}"),
    }
}

fn observe(s: &ExporterSampler, text: &str, at: Instant) -> Sample {
    match s.observe(URL, text, at, SystemTime::UNIX_EPOCH) {
        Ok(sample) => sample,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_first_scrape_gives_levels_and_the_next_rates() {
    let s = sampler();
    let t0 = Instant::now();
    let first = observe(&s, &answer(100.0, 100.0, 1000.0, 0.0, "0.5"), t0);
    assert_eq!(first.source, Source::NodeExporter);
    assert_eq!(
        (first.cpu_pct, first.net_rx_bps, first.net_tx_bps),
        (None, None, None)
    );
    assert_eq!(
        (first.mem_pct, first.disk_pct, first.load1),
        (Some(75.0), Some(60.0), Some(0.5))
    );

    let second = observe(
        &s,
        &answer(101.0, 103.0, 3000.0, 500.0, "0.7"),
        t0 + Duration::from_secs(2),
    );
    assert_eq!(second.cpu_pct, Some(75.0));
    assert_eq!(
        (second.net_rx_bps, second.net_tx_bps),
        (Some(1000.0), Some(250.0))
    );
    assert_eq!(second.load1, Some(0.7));

    // Another URL starts over; forgetting one does too.
    let other = s.observe(
        "http://10.0.0.2:9100/metrics",
        &answer(1.0, 1.0, 1.0, 1.0, "0"),
        t0,
        SystemTime::UNIX_EPOCH,
    );
    assert_eq!(other.ok().and_then(|o| o.cpu_pct), None);
    s.forget(URL);
    let again = observe(
        &s,
        &answer(102.0, 104.0, 4000.0, 600.0, "0.7"),
        t0 + Duration::from_secs(3),
    );
    assert_eq!(again.cpu_pct, None);
}

#[test]
fn a_counter_reset_gives_no_rates_for_one_interval_then_rates_again() {
    let s = sampler();
    let t0 = Instant::now();
    let second = Duration::from_secs(1);
    observe(&s, &answer(5000.0, 5000.0, 1e9, 1e9, "1"), t0);
    // The host rebooted: every counter starts from nearly zero.
    let after_reset = observe(&s, &answer(10.0, 2.0, 100.0, 100.0, "1"), t0 + second);
    assert_eq!(after_reset.cpu_pct, None);
    assert_eq!(
        (after_reset.net_rx_bps, after_reset.net_tx_bps),
        (None, None)
    );
    assert_eq!(after_reset.mem_pct, Some(75.0));
    let next = observe(&s, &answer(11.0, 3.0, 1100.0, 100.0, "1"), t0 + second * 2);
    assert_eq!(next.cpu_pct, Some(50.0));
    assert_eq!(next.net_rx_bps, Some(1000.0));
}

#[test]
fn unknown_figures_stay_out_of_samples_on_either_end() {
    let s = sampler();
    let t0 = Instant::now();
    let nan_cpu = answer(f64::NAN, 100.0, 1000.0, 1000.0, "NaN");
    let first = observe(&s, &nan_cpu, t0);
    assert_eq!((first.load1, first.mem_pct), (None, Some(75.0)));
    // CPU was unknown at the start of this interval: no CPU figure yet, but network rates.
    let second = observe(
        &s,
        &answer(100.0, 100.0, 2000.0, 1000.0, "+Inf"),
        t0 + Duration::from_secs(1),
    );
    assert_eq!(second.cpu_pct, None);
    assert_eq!(second.net_rx_bps, Some(1000.0));
    assert_eq!(second.load1, None);
    let third = observe(
        &s,
        &answer(101.0, 101.0, 2000.0, 1000.0, "2"),
        t0 + Duration::from_secs(2),
    );
    assert_eq!((third.cpu_pct, third.load1), (Some(50.0), Some(2.0)));
}

#[test]
fn an_unusable_answer_keeps_the_previous_reading() {
    let s = sampler();
    let t0 = Instant::now();
    observe(&s, &answer(100.0, 100.0, 0.0, 0.0, "1"), t0);
    let html = s.observe(
        URL,
        "<html>502 Bad Gateway</html>",
        t0 + Duration::from_secs(1),
        SystemTime::UNIX_EPOCH,
    );
    assert!(
        matches!(html, Err(ExpositionError::NotPrometheus(_))),
        "{html:?}"
    );
    let later = observe(
        &s,
        &answer(102.0, 102.0, 4000.0, 0.0, "1"),
        t0 + Duration::from_secs(2),
    );
    assert_eq!(later.cpu_pct, Some(50.0));
    assert_eq!(later.net_rx_bps, Some(2000.0));
}
