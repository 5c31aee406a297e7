//! Metric collection in a console's session, against real components: a loopback OpenSSH
//! fleet probed over its pooled connections (one login per host however many samples), a real
//! `fleetdeck agent` whose heartbeats become samples, hosts nothing samples marked once, and
//! the metrics log read back when a session opens. Values are compared with this machine's
//! /proc (the hosts are this machine), within a tolerance.

mod support;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use fleetdeck::config::units::HumanDuration;
use fleetdeck::config::{Home, Settings};
use fleetdeck::engine::launch::SshFlags;
use fleetdeck::engine::sampling::log::MetricsLog;
use fleetdeck::engine::{FleetSession, SessionOptions};
use fleetdeck::inventory::load;
use fleetdeck::metrics::series::epoch_secs;
use fleetdeck::metrics::{Availability, Closed, Metric, MetricsFrame, Point, Source, Tier, Window};
use fleetdeck::store::Rotation;
use support::agent::Agent;
use support::cli::{count_in_log, ssh_home};
use support::engine::home_at;
use support::node_exporter::{NodeExporter, node_exporter_or_skip};
use support::proc_here::mem_pct_here;
use support::sshd::{FleetOptions, SshdFleet, sshd_or_skip};

/// Liveness bound (never a speed assertion).
const PATIENCE: Duration = Duration::from_secs(60);

fn settings_every(ssh: Duration) -> Settings {
    let mut s = Settings::default();
    s.metrics.ssh_interval = HumanDuration(ssh);
    s
}

/// Waits (bounded) until `want` holds for the session's metrics frame.
async fn until_frame(session: &FleetSession, what: &str, want: impl Fn(&MetricsFrame) -> bool) {
    let start = Instant::now();
    loop {
        let snap = session.snapshot();
        if want(&snap.metrics) {
            return;
        }
        assert!(start.elapsed() < PATIENCE, "{what}: {:?}", snap.metrics);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn open(home: &Home, settings: &Settings, ssh: SshFlags, watch_agents: bool) -> FleetSession {
    let hosts = load::load(&home.hosts_file()).unwrap().hosts().to_vec();
    FleetSession::open(
        home,
        settings,
        SessionOptions {
            ssh,
            watch_agents,
            collect_metrics: true,
            ..SessionOptions::new(hosts)
        },
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_hosts_are_sampled_over_one_pooled_connection_each() {
    if !sshd_or_skip("ssh_hosts_are_sampled_over_one_pooled_connection_each") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 2,
        ..Default::default()
    })
    .unwrap();
    let dir = ssh_home(
        &fleet,
        "\n[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n",
    );
    let home = Home::under(dir.path());
    let flags = SshFlags {
        ssh_config: Some(fleet.ssh_config_path().to_path_buf()),
        known_hosts: vec![fleet.known_hosts_path().to_path_buf()],
        accept_new: false,
    };
    let session = open(&home, &settings_every(Duration::from_secs(1)), flags, false);
    // CPU needs two readings: a sample with it means the delta path ran.
    until_frame(&session, "cpu of both ssh hosts", |f| {
        ["h001", "h002"].iter().all(|h| {
            f.host(h)
                .and_then(|n| n.latest.as_ref())
                .is_some_and(|s| s.cpu_pct.is_some() && s.source == Source::Ssh)
        })
    })
    .await;
    let now = SystemTime::now();
    let frame = session.snapshot().metrics;
    let h1 = frame.host("h001").unwrap();
    assert_eq!(h1.availability, Availability::Sampled);
    assert!(!h1.is_stale(now));
    let mem = h1.fresh(Metric::Mem, now).unwrap();
    assert!((mem - mem_pct_here()).abs() < 5.0, "{mem}");
    assert!(
        h1.fresh(Metric::Disk, now)
            .is_some_and(|d| (0.0..=100.0).contains(&d))
    );
    // A local host without an exporter is marked once, with the reason.
    match &frame.host("lab1").unwrap().availability {
        Availability::NoMetrics(why) => assert!(why.contains("node_exporter"), "{why}"),
        other => panic!("lab1: {other:?}"),
    }
    // Several more samples, no new login: each sample is a channel on the pooled connection.
    let before = session.series("h001", Window::Min15).len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = session.series("h001", Window::Min15).len();
    assert!(after > before, "{before} -> {after}");
    assert_eq!(
        count_in_log(&fleet, "Accepted publickey"),
        2,
        "{}",
        fleet.log_tail(30)
    );
    session.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_heartbeats_become_samples() {
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(&dir.path().join("a1"), "a1", "");
    let home = home_at(&dir.path().join("home"), &agent.hosts_entry("a1"));
    let session = open(&home, &Settings::default(), SshFlags::default(), true);
    until_frame(&session, "an agent sample", |f| {
        f.host("a1").and_then(|n| n.latest.as_ref()).is_some()
    })
    .await;
    let frame = session.snapshot().metrics;
    let a1 = frame.host("a1").unwrap();
    let latest = a1.latest.as_ref().unwrap();
    assert_eq!(latest.source, Source::Agent);
    // The test agent beats every second.
    assert_eq!(a1.interval, Some(Duration::from_secs(1)));
    let mem = latest.mem_pct.unwrap();
    assert!((mem - mem_pct_here()).abs() < 5.0, "{mem}");
    session.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_reads_the_last_day_back_from_the_metrics_log() {
    let dir = tempfile::tempdir().unwrap();
    let home = home_at(dir.path(), "[[hosts]]\nname = \"web1\"\n");
    let t = epoch_secs(SystemTime::now());
    let minute = |ago: u32, cpu: f64| Closed {
        tier: Tier::Minute,
        point: Point::from_values(
            t - t % 60 - ago,
            [Some(cpu), Some(40.0), None, None, None, None],
        ),
    };
    // As an earlier console (another process) left it.
    let mut log = MetricsLog::new(&home, Rotation::NEVER);
    log.append(&[
        ("web1".to_string(), minute(600, 10.0)),
        ("web1".to_string(), minute(540, 20.0)),
        ("gone".to_string(), minute(540, 99.0)),
    ])
    .unwrap();
    assert!(Path::new(&home.metrics_dir().join("minute.jsonl")).exists());
    // SSH sampling off: only what the log holds.
    let session = open(
        &home,
        &settings_every(Duration::ZERO),
        SshFlags::default(),
        false,
    );
    let start = Instant::now();
    loop {
        let points = session.series("web1", Window::Hour1);
        if points.len() == 2 {
            assert_eq!(points[0].get(Metric::Cpu), Some(10.0));
            assert_eq!(points[1].get(Metric::Mem), Some(40.0));
            break;
        }
        assert!(start.elapsed() < PATIENCE, "{points:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A host no longer in the inventory costs nothing.
    assert!(session.series("gone", Window::Hour1).is_empty());
    session.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_exporters_are_scraped_and_a_refusing_one_says_so() {
    if !node_exporter_or_skip("node_exporters_are_scraped_and_a_refusing_one_says_so") {
        return;
    }
    let exporter = NodeExporter::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hosts = format!(
        "[[hosts]]\nname = \"box1\"\ntransport = \"local\"\nmetrics = {{ node_exporter = \"{}\" }}\n\n\
         [[hosts]]\nname = \"box2\"\ntransport = \"local\"\nmetrics = {{ node_exporter = \"http://127.0.0.1:1/metrics\" }}\n",
        exporter.url()
    );
    let home = home_at(dir.path(), &hosts);
    fs::create_dir_all(&home.config_dir).unwrap();
    fs::write(
        home.hosts_file(),
        format!(
            "[[hosts]]\nname = \"box1\"\ntransport = \"local\"\nmetrics = {{ node_exporter = \"{}\" }}\n\n\
             [[hosts]]\nname = \"box2\"\ntransport = \"local\"\nmetrics = {{ node_exporter = \"http://127.0.0.1:1/metrics\" }}\n",
            exporter.url()
        ),
    )
    .unwrap();
    let mut settings = Settings::default();
    settings.metrics.exporter_interval = HumanDuration(Duration::from_secs(1));
    let session = open(&home, &settings, SshFlags::default(), false);
    until_frame(&session, "box1's cpu from its exporter, box2 failing", |f| {
        let box1 = f
            .host("box1")
            .and_then(|n| n.latest.as_ref())
            .is_some_and(|s| s.source == Source::NodeExporter && s.cpu_pct.is_some());
        let box2 = f
            .host("box2")
            .is_some_and(|n| matches!(&n.availability, Availability::Failing(why) if why.contains("refused")));
        box1 && box2
    })
    .await;
    let frame = session.snapshot().metrics;
    let mem = frame
        .host("box1")
        .unwrap()
        .fresh(Metric::Mem, SystemTime::now())
        .unwrap();
    assert!((mem - mem_pct_here()).abs() < 5.0, "{mem}");
    session.shutdown(Duration::from_secs(2)).await;
}
