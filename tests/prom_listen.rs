//! `[metrics] listen`: the console's /metrics endpoint, served from a reader of a session that
//! collects a real agent's heartbeats; fetched over loopback HTTP like Prometheus would.

mod support;

use std::fs;
use std::time::{Duration, Instant};

use fleetdeck::config::Settings;
use fleetdeck::engine::prom_listen::listen;
use fleetdeck::engine::{FleetSession, SessionOptions};
use fleetdeck::inventory::load;
use support::agent::Agent;
use support::engine::home_at;
use tokio_util::sync::CancellationToken;

const PATIENCE: Duration = Duration::from_secs(30);

/// `name{labels} value` lines (comments skipped), each checked for the format's shape.
fn samples(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("no value: {l}"));
            let value: f64 = value.parse().unwrap_or_else(|e| panic!("{e}: {l}"));
            assert!(series.starts_with("fleetdeck_"), "{l}");
            (series.to_string(), value)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoint_serves_fleet_gauges_from_collected_samples() {
    let dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(&dir.path().join("a1"), "a1", "");
    let home = home_at(
        &dir.path().join("home"),
        &format!(
            "{}[[hosts]]\nname = \"lab\"\ntransport = \"local\"\n",
            agent.hosts_entry("a1")
        ),
    );
    fs::create_dir_all(&home.config_dir).unwrap();
    fs::write(
        home.hosts_file(),
        format!(
            "[[hosts]]\nname = \"a1\"\ntransport = \"agent\"\nagent = {{ url = \"{}\", fingerprint = \"{}\", token_file = \"{}\" }}\n\n[[hosts]]\nname = \"lab\"\ntransport = \"local\"\n",
            agent.url,
            agent.fingerprint(),
            agent.token().display()
        ),
    )
    .unwrap();
    let hosts = load::load(&home.hosts_file()).unwrap().hosts().to_vec();
    let session = FleetSession::open(
        &home,
        &Settings::default(),
        SessionOptions {
            watch_agents: true,
            collect_metrics: true,
            ..SessionOptions::new(hosts)
        },
    )
    .unwrap();
    let stop = CancellationToken::new();
    let served = listen("127.0.0.1:0", session.reader(), stop.clone())
        .await
        .unwrap();
    let url = format!("http://{}/metrics", served.addr);
    let client = reqwest::Client::new();
    let start = Instant::now();
    let text = loop {
        let resp = client.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let ctype = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
        let text = resp.text().await.unwrap();
        if text.contains("fleetdeck_host_memory_usage_ratio{host=\"a1\"") {
            break text;
        }
        assert!(start.elapsed() < PATIENCE, "{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let got = samples(&text);
    let value = |series: &str| {
        got.iter()
            .find(|(s, _)| s == series)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    let mem = value("fleetdeck_host_memory_usage_ratio{host=\"a1\",source=\"agent\"}");
    assert!((0.0..=1.0).contains(&mem), "{mem}");
    assert_eq!(value("fleetdeck_hosts{state=\"local\"}"), 1.0);
    assert_eq!(value("fleetdeck_queue_depth"), 0.0);
    assert_eq!(value("fleetdeck_runs{state=\"running\"}"), 0.0);
    // Every family is typed once.
    for family in [
        "fleetdeck_hosts",
        "fleetdeck_host_cpu_usage_ratio",
        "fleetdeck_queue_depth",
    ] {
        assert_eq!(
            text.matches(&format!("# TYPE {family} ")).count(),
            1,
            "{family}"
        );
    }
    // Only /metrics, only reads.
    let other = client
        .get(format!("http://{}/", served.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let post = client.post(&url).send().await.unwrap();
    assert_eq!(post.status(), 405);
    // A port in use is said at once.
    let busy = listen(&served.addr.to_string(), session.reader(), stop.clone()).await;
    assert!(busy.is_err_and(|e| e.contains("cannot listen")));
    stop.cancel();
    session.shutdown(Duration::from_secs(2)).await;
}
