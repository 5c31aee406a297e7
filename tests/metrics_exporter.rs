//! The node_exporter source through the library API: the real Debian exporter scraped on
//! loopback and checked against this machine's /proc and statvfs, and every kind of bad answer
//! (refused, hung, HTML, 50 MB, gzip that unpacks large, NaN and Inf, a missing family, an
//! error status) from loopback servers these tests start themselves.

mod support;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use fleetdeck::metrics::{
    DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, ExporterError, ExporterSampler, ExpositionError, Sample,
    ScrapeError, Scraper, parse_exposition,
};
use support::http_stub::{Answer, HttpStub, gzip};
use support::node_exporter::{NodeExporter, node_exporter_or_skip};

/// A scrape captured from the real exporter (see tests/fixtures/node_exporter).
const CAPTURED: &str = include_str!("fixtures/node_exporter/node-1.5.0.txt");

/// Every test's bound: nothing here may hang the suite.
const TEST_LIMIT: Duration = Duration::from_secs(60);

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    match tokio::time::timeout(TEST_LIMIT, test).await {
        Ok(v) => v,
        Err(_) => panic!("test did not finish within {TEST_LIMIT:?}"),
    }
}

fn scraper(timeout: Duration) -> Scraper {
    match Scraper::new(timeout, DEFAULT_MAX_BYTES) {
        Ok(s) => s,
        Err(e) => panic!("no HTTP client: {e}"),
    }
}

fn start_exporter() -> NodeExporter {
    match NodeExporter::start() {
        Ok(e) => e,
        Err(e) => panic!("cannot start node_exporter: {e}"),
    }
}

async fn stub(answer: Answer) -> HttpStub {
    match HttpStub::start(answer).await {
        Ok(s) => s,
        Err(e) => panic!("cannot start the loopback server: {e}"),
    }
}

async fn sample_ok(sampler: &ExporterSampler, url: &str) -> Sample {
    match sampler.sample(url).await {
        Ok(s) => s,
        Err(e) => panic!("scrape of {url} failed: {e}"),
    }
}

// ---- this machine's own figures -------------------------------------------------------------

fn proc_file(path: &str) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => panic!("cannot read {path}: {e}"),
    }
}

/// Memory in use, percent, as MemTotal minus MemAvailable.
fn proc_mem_pct() -> f64 {
    let text = proc_file("/proc/meminfo");
    let field = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("/proc/meminfo has no {name}"))
    };
    let total = field("MemTotal");
    (total - field("MemAvailable")) * 100.0 / total
}

fn proc_load1() -> f64 {
    let text = proc_file("/proc/loadavg");
    match text.split_whitespace().next().map(str::parse::<f64>) {
        Some(Ok(v)) => v,
        _ => panic!("/proc/loadavg: {text}"),
    }
}

/// (size, available) bytes of the file system at `/`, from statvfs.
fn statvfs_root() -> (u64, u64) {
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: a NUL-terminated path literal and a buffer of the right type for statvfs(3) to
    // fill; it is read only after statvfs reported success.
    let st = unsafe {
        if libc::statvfs(c"/".as_ptr(), st.as_mut_ptr()) != 0 {
            panic!("statvfs(/): {}", std::io::Error::last_os_error());
        }
        st.assume_init()
    };
    let block = st.f_frsize;
    (st.f_blocks * block, st.f_bavail * block)
}

/// The file-system type mounted at `/` (the last mount there wins).
fn root_fstype() -> String {
    proc_file("/proc/self/mounts")
        .lines()
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            (fields.get(1) == Some(&"/")).then(|| fields.get(2).map(|s| s.to_string()))?
        })
        .next_back()
        .unwrap_or_default()
}

/// `value` lies within the range of `bounds`, widened by `margin` either side.
fn within(value: f64, bounds: [f64; 2], margin: f64) -> bool {
    let (lo, hi) = (bounds[0].min(bounds[1]), bounds[0].max(bounds[1]));
    value >= lo - margin && value <= hi + margin
}

// ---- the real exporter ----------------------------------------------------------------------

#[tokio::test]
async fn scrapes_of_the_real_exporter_match_this_machines_proc() {
    if !node_exporter_or_skip("scrapes_of_the_real_exporter_match_this_machines_proc") {
        return;
    }
    let exporter = start_exporter();
    let url = exporter.url();
    bounded(async {
        let sampler = ExporterSampler::new(scraper(DEFAULT_TIMEOUT));
        let first = sample_ok(&sampler, &url).await;
        assert_eq!(
            first.cpu_pct, None,
            "one scrape has no CPU delta: {first:?}"
        );
        assert_eq!(first.net_rx_bps, None, "{first:?}");

        tokio::time::sleep(Duration::from_secs(1)).await;
        let (mem_before, load_before) = (proc_mem_pct(), proc_load1());
        let second = sample_ok(&sampler, &url).await;
        let (mem_after, load_after) = (proc_mem_pct(), proc_load1());

        let cpu = second.cpu_pct.unwrap_or(-1.0);
        assert!((0.0..=100.0).contains(&cpu), "cpu {cpu}: {second:?}");
        assert!(second.net_rx_bps.is_some_and(|v| v >= 0.0), "{second:?}");
        assert!(second.net_tx_bps.is_some_and(|v| v >= 0.0), "{second:?}");
        let mem = second.mem_pct.unwrap_or(-1.0);
        assert!(
            within(mem, [mem_before, mem_after], 1.0),
            "mem {mem}% against /proc/meminfo's {mem_before}%..{mem_after}%"
        );
        let load = second.load1.unwrap_or(-1.0);
        assert!(
            within(load, [load_before, load_after], 0.05),
            "load1 {load} against /proc/loadavg's {load_before}..{load_after}"
        );

        // The root file system, read through the scraper and the parser.
        let fstype = root_fstype();
        let (size_before, avail_before) = statvfs_root();
        let text = match sampler.scraper().scrape(&url).await {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let (_, avail_after) = statvfs_root();
        let reading = match parse_exposition(&text) {
            Ok(r) => r.reading,
            Err(e) => panic!("{e}"),
        };
        // node_exporter leaves out overlay and other pseudo roots (a container): nothing to
        // compare then.
        if matches!(
            fstype.as_str(),
            "overlay" | "tmpfs" | "rootfs" | "squashfs" | ""
        ) {
            eprintln!("root is {fstype:?}, which node_exporter does not report: disk not compared");
            return;
        }
        let Some(root) = reading.disks.iter().find(|m| m.mount == "/") else {
            panic!("no / among {:?}", reading.disks);
        };
        assert_eq!(root.total, size_before, "{root:?}");
        let pct = |avail: u64| (size_before - avail) as f64 * 100.0 / size_before as f64;
        assert!(
            within(root.used_pct(), [pct(avail_before), pct(avail_after)], 0.5),
            "/ used {}% against statvfs {}%..{}%",
            root.used_pct(),
            pct(avail_before),
            pct(avail_after)
        );
    })
    .await;
}

#[tokio::test]
async fn samples_keep_coming_across_an_exporter_restart() {
    if !node_exporter_or_skip("samples_keep_coming_across_an_exporter_restart") {
        return;
    }
    let mut exporter = start_exporter();
    let url = exporter.url();
    let sampler = ExporterSampler::new(scraper(DEFAULT_TIMEOUT));
    bounded(sample_ok(&sampler, &url)).await;
    let old_pid = exporter.pid();
    if let Err(e) = exporter.restart() {
        panic!("restart failed: {e}\n{}", exporter.log_tail(20));
    }
    assert_ne!(exporter.pid(), old_pid);
    // node_exporter's counters come from the kernel: a restart of the exporter alone does not
    // reset them, so the interval across it still has CPU and network figures.
    let after = bounded(sample_ok(&sampler, &url)).await;
    assert!(
        after.cpu_pct.is_some_and(|v| (0.0..=100.0).contains(&v)),
        "{after:?}"
    );
    assert!(after.net_rx_bps.is_some(), "{after:?}");
}

#[tokio::test]
async fn a_counter_that_goes_backwards_restarts_the_delta() {
    if !node_exporter_or_skip("a_counter_that_goes_backwards_restarts_the_delta") {
        return;
    }
    // The real exporter's answers, then one from "after a reboot" (every counter low), fed in
    // the order a collector would see them.
    let exporter = start_exporter();
    let sampler = ExporterSampler::new(scraper(DEFAULT_TIMEOUT));
    let scrape = || async {
        match sampler.scraper().scrape(&exporter.url()).await {
            Ok(text) => text,
            Err(e) => panic!("{e}"),
        }
    };
    let url = exporter.url();
    let t0 = Instant::now();
    let observe = |text: &str, at: Instant| match sampler.observe(&url, text, at, SystemTime::now())
    {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let before = bounded(scrape()).await;
    observe(&before, t0);
    let rebooted = CAPTURED
        .lines()
        .map(|l| match l.strip_prefix("node_cpu_seconds_total") {
            Some(rest) => match rest.rsplit_once(' ') {
                Some((labels, _)) => format!("node_cpu_seconds_total{labels} 1"),
                None => l.to_string(),
            },
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let across = observe(&rebooted, t0 + Duration::from_secs(1));
    assert_eq!(across.cpu_pct, None, "{across:?}");
    assert!(across.mem_pct.is_some(), "{across:?}");
    let next = bounded(scrape()).await;
    let after = observe(&next, t0 + Duration::from_secs(2));
    assert!(
        after.cpu_pct.is_some_and(|v| (0.0..=100.0).contains(&v)),
        "{after:?}"
    );
}

// ---- bad answers ----------------------------------------------------------------------------

#[tokio::test]
async fn a_closed_port_says_refused() {
    let port = {
        let listener = match std::net::TcpListener::bind("127.0.0.1:0") {
            Ok(l) => l,
            Err(e) => panic!("{e}"),
        };
        match listener.local_addr() {
            Ok(a) => a.port(),
            Err(e) => panic!("{e}"),
        }
    };
    let got =
        bounded(scraper(DEFAULT_TIMEOUT).scrape(&format!("http://127.0.0.1:{port}/metrics"))).await;
    assert_eq!(got, Err(ScrapeError::Refused));
    assert_eq!(ScrapeError::Refused.to_string(), "refused");
}

#[tokio::test]
async fn a_hanging_exporter_times_out() {
    let server = stub(Answer::Hang).await;
    let limit = Duration::from_millis(500);
    let started = Instant::now();
    let got = bounded(scraper(limit).scrape(&server.url())).await;
    assert_eq!(got, Err(ScrapeError::TimedOut(limit)));
    assert_eq!(
        ScrapeError::TimedOut(limit).to_string(),
        "timed out after 500ms"
    );
    assert_eq!(server.seen().requests.load(Ordering::SeqCst), 1);
    // Bounded, not timed: only that it gave up instead of waiting for the server.
    assert!(started.elapsed() < TEST_LIMIT);
}

#[tokio::test]
async fn an_html_page_is_not_prometheus_text() {
    let page = b"<!DOCTYPE html>\n<html><head><title>Node Exporter</title></head>\n\
                 <body><a href=\"/metrics\">Metrics</a></body></html>\n"
        .to_vec();
    let server = stub(Answer::Fixed {
        status: 200,
        content_type: "text/html; charset=utf-8",
        body: page,
    })
    .await;
    let sampler = ExporterSampler::new(scraper(DEFAULT_TIMEOUT));
    match bounded(sampler.sample(&server.url())).await {
        Err(e @ ExporterError::Exposition(ExpositionError::NotPrometheus(_))) => {
            assert!(e.to_string().starts_with("not Prometheus text: "), "{e}");
        }
        other => panic!("HTML gave {other:?}"),
    }
}

#[tokio::test]
async fn an_error_status_is_reported_with_its_code() {
    let server = stub(Answer::Fixed {
        status: 503,
        content_type: "text/plain",
        body: b"node_load1 1\n".to_vec(),
    })
    .await;
    let got = bounded(scraper(DEFAULT_TIMEOUT).scrape(&server.url())).await;
    assert_eq!(got, Err(ScrapeError::Status(503)));
    assert_eq!(ScrapeError::Status(503).to_string(), "HTTP 503");
}

#[tokio::test]
async fn a_50_mb_answer_is_cut_at_the_limit() {
    const TOTAL: u64 = 50_000_000;
    let server = stub(Answer::Stream {
        line: "node_network_receive_bytes_total{device=\"eth0\"} 12345\n",
        total: TOTAL,
    })
    .await;
    let got = bounded(scraper(DEFAULT_TIMEOUT).scrape(&server.url())).await;
    assert_eq!(got, Err(ScrapeError::TooLarge(DEFAULT_MAX_BYTES)));
    assert_eq!(
        got.err().map(|e| e.to_string()).as_deref(),
        Some("body over 16 MiB")
    );
    // The client stopped reading: the server could not send the rest.
    assert!(server.wait_stream_ended(Duration::from_secs(20)).await);
    let sent = server.seen().body_sent.load(Ordering::SeqCst);
    assert!(sent < TOTAL, "the whole 50 MB went out ({sent} bytes)");
}

#[tokio::test]
async fn gzip_that_unpacks_past_the_limit_is_cut_too() {
    // 64 MiB of text that gzip packs into well under 1 MiB.
    let text = "node_load1 1\n".repeat((64 << 20) / 13);
    let compressed = Arc::new(gzip(text.as_bytes()));
    assert!(compressed.len() < DEFAULT_MAX_BYTES / 16);
    let server = stub(Answer::RawGzip { compressed }).await;
    let got = bounded(scraper(DEFAULT_TIMEOUT).scrape(&server.url())).await;
    assert_eq!(got, Err(ScrapeError::TooLarge(DEFAULT_MAX_BYTES)));
}

#[tokio::test]
async fn a_gzip_answer_is_asked_for_and_unpacked() {
    let server = stub(Answer::Gzip {
        body: CAPTURED.as_bytes().to_vec(),
    })
    .await;
    let got = bounded(scraper(DEFAULT_TIMEOUT).scrape(&server.url())).await;
    assert!(server.seen().gzip_asked.load(Ordering::SeqCst));
    assert_eq!(got.as_deref(), Ok(CAPTURED));
}

#[tokio::test]
async fn nan_and_inf_values_never_become_numbers() {
    // The captured answer with NaN and Inf where a broken collector would put them.
    let broken = CAPTURED
        .replace("node_load1 1.03", "node_load1 NaN")
        .replace(
            "node_memory_MemTotal_bytes 2.5276182528e+10",
            "node_memory_MemTotal_bytes +Inf",
        )
        .replace(
            "node_cpu_seconds_total{cpu=\"1\",mode=\"user\"} 5754.92",
            "node_cpu_seconds_total{cpu=\"1\",mode=\"user\"} NaN",
        )
        .replace(
            "node_network_receive_bytes_total{device=\"eth0\"} 1.58899074e+08",
            "node_network_receive_bytes_total{device=\"eth0\"} -Inf",
        );
    assert_ne!(broken, CAPTURED);
    let server = stub(Answer::Fixed {
        status: 200,
        content_type: "text/plain; version=0.0.4",
        body: broken.into_bytes(),
    })
    .await;
    let sampler = ExporterSampler::new(scraper(DEFAULT_TIMEOUT));
    for _ in 0..2 {
        let s = bounded(sample_ok(&sampler, &server.url())).await;
        assert_eq!(
            (s.cpu_pct, s.mem_pct, s.load1, s.net_rx_bps, s.net_tx_bps),
            (None, None, None, None, None),
            "{s:?}"
        );
        // The file system figures were good, and stay.
        assert!(s.disk_pct.is_some_and(f64::is_finite), "{s:?}");
        let json = match serde_json::to_string(&s) {
            Ok(j) => j,
            Err(e) => panic!("{e}"),
        };
        assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
    }
}

#[tokio::test]
async fn an_answer_without_cpu_says_what_is_missing() {
    let without_cpu: String = CAPTURED
        .lines()
        .filter(|l| !l.contains("node_cpu_seconds_total"))
        .map(|l| format!("{l}\n"))
        .collect();
    let server = stub(Answer::Fixed {
        status: 200,
        content_type: "text/plain; version=0.0.4",
        body: without_cpu.into_bytes(),
    })
    .await;
    let sampler = ExporterSampler::new(scraper(DEFAULT_TIMEOUT));
    let got = bounded(sampler.sample(&server.url())).await;
    assert_eq!(
        got.err().map(|e| e.to_string()).as_deref(),
        Some("no node_cpu_seconds_total: is this a node_exporter?")
    );
}
