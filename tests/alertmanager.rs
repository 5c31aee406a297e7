//! The Alertmanager source against Debian's real `prometheus-alertmanager` on loopback:
//! alerts posted to its API by the test are polled, mapped to inventory hosts, resolved and
//! acknowledged (the silence read back); 10,000 alerts at once; and every bad answer
//! (refused, hung, HTML, not an alert list, too large) from loopback servers the tests start.

mod support;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use fleetdeck::incident::alertmanager::{
    AlertState, AlertmanagerClient, AlertmanagerSource, AmErrorKind, HostIndex, Observation,
    Resolution, Unmapped, parse_alerts,
};
use serde_json::{Value, json};
use support::alertmanager::{Alertmanager, alertmanager_or_skip};
use support::http_stub::{Answer, HttpStub};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Every test's bound: nothing here may hang the suite.
const TEST_LIMIT: Duration = Duration::from_secs(120);

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    match tokio::time::timeout(TEST_LIMIT, test).await {
        Ok(v) => v,
        Err(_) => panic!("test did not finish within {TEST_LIMIT:?}"),
    }
}

fn start() -> Alertmanager {
    match Alertmanager::start() {
        Ok(am) => am,
        Err(e) => panic!("cannot start alertmanager: {e}"),
    }
}

fn client(url: &str, timeout: Duration) -> AlertmanagerClient {
    match AlertmanagerClient::new(url, timeout) {
        Ok(c) => c,
        Err(e) => panic!("no client: {e}"),
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// An alert as Prometheus posts it.
fn alert(name: &str, labels: &[(&str, &str)], ends_at: Option<OffsetDateTime>) -> Value {
    let mut all: BTreeMap<&str, &str> = labels.iter().copied().collect();
    all.insert("alertname", name);
    let mut a = json!({
        "labels": all,
        "annotations": {"summary": format!("{name} summary"), "runbook_url": "https://wiki.example/runbook"},
        "generatorURL": "http://prometheus.example/graph",
    });
    if let Some(end) = ends_at {
        a["startsAt"] = json!(rfc3339(end - time::Duration::minutes(10)));
        a["endsAt"] = json!(rfc3339(end));
    }
    a
}

/// POSTs alerts to Alertmanager's own API, as Prometheus does.
async fn post_alerts(am: &Alertmanager, alerts: &[Value]) {
    let url = format!("{}/api/v2/alerts", am.url());
    let http = reqwest::Client::new();
    let response = http
        .post(&url)
        .timeout(Duration::from_secs(30))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(alerts).unwrap_or_default())
        .send()
        .await;
    match response {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => panic!("POST {url}: HTTP {}: {}", r.status(), am.log_tail(20)),
        Err(e) => panic!("POST {url}: {e}: {}", am.log_tail(20)),
    }
}

fn inventory() -> HostIndex {
    HostIndex::new([
        ("web01", Some("10.0.0.1")),
        ("web02", None),
        ("db1", Some("fd00::5")),
    ])
}

fn firing_by_name(obs: &[Observation]) -> BTreeMap<String, (Vec<String>, Option<Unmapped>)> {
    obs.iter()
        .filter_map(|o| match o {
            Observation::Firing { alert, hosts } => Some((
                alert.name().to_string(),
                (hosts.hosts.clone(), hosts.unmapped.clone()),
            )),
            Observation::Resolved { .. } => None,
        })
        .collect()
}

#[tokio::test]
async fn polls_maps_resolves_and_acks_against_real_alertmanager() {
    if !alertmanager_or_skip("polls_maps_resolves_and_acks_against_real_alertmanager") {
        return;
    }
    bounded(async {
        let am = start();
        post_alerts(
            &am,
            &[
                alert(
                    "DiskFull",
                    &[("instance", "10.0.0.1:9100"), ("severity", "critical")],
                    None,
                ),
                alert("DbDown", &[("instance", "[fd00::5]:9187")], None),
                alert(
                    "NginxDown",
                    &[("host", "web02"), ("unit", "nginx.service")],
                    None,
                ),
                alert("Watchdog", &[], None),
                alert("GhostDown", &[("instance", "ghost:9100")], None),
            ],
        )
        .await;
        let Ok(Some(mut source)) = AlertmanagerSource::from_settings(
            &fleetdeck::incident::alertmanager::AlertmanagerSettings {
                url: am.url(),
                ..Default::default()
            },
        ) else {
            panic!("no source from settings")
        };
        let idx = inventory();

        let obs = match source.poll(&idx).await {
            Ok(obs) => obs,
            Err(e) => panic!("first poll: {e}\n{}", am.log_tail(20)),
        };
        let firing = firing_by_name(&obs);
        assert_eq!(firing.len(), 5, "{obs:#?}");
        assert_eq!(firing["DiskFull"].0, ["web01"]);
        assert_eq!(firing["DbDown"].0, ["db1"]);
        assert_eq!(firing["NginxDown"].0, ["web02"]);
        assert_eq!(
            firing["Watchdog"],
            (Vec::new(), Some(Unmapped::NoHostLabel))
        );
        assert_eq!(
            firing["GhostDown"]
                .1
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("instance=\"ghost:9100\" is not in the inventory")
        );
        let disk = obs.iter().find_map(|o| match o {
            Observation::Firing { alert, .. } if alert.name() == "DiskFull" => Some(alert.clone()),
            _ => None,
        });
        let Some(disk) = disk else {
            panic!("no DiskFull")
        };
        assert_eq!(disk.fingerprint.len(), 16, "{disk:?}");
        assert_eq!(disk.title(), "DiskFull summary");
        assert_eq!(disk.generator_url, "http://prometheus.example/graph");
        assert!(
            disk.starts_at.is_some() && disk.ends_at.is_some(),
            "{disk:?}"
        );
        assert_eq!(
            disk.annotations.get("runbook_url").map(String::as_str),
            Some("https://wiki.example/runbook")
        );

        // Nothing changed: nothing to say.
        let again = source.poll(&idx).await;
        assert!(matches!(&again, Ok(o) if o.is_empty()), "{again:?}");

        // Prometheus resolves DiskFull: the same labels with endsAt in the past.
        let past = OffsetDateTime::now_utc() - time::Duration::minutes(1);
        post_alerts(
            &am,
            &[alert(
                "DiskFull",
                &[("instance", "10.0.0.1:9100"), ("severity", "critical")],
                Some(past),
            )],
        )
        .await;
        let obs = match source.poll(&idx).await {
            Ok(obs) => obs,
            Err(e) => panic!("poll after resolving: {e}"),
        };
        assert_eq!(obs.len(), 1, "{obs:#?}");
        let Observation::Resolved { alert, hosts, why } = &obs[0] else {
            panic!("{obs:#?}")
        };
        assert_eq!(alert.fingerprint, disk.fingerprint);
        assert_eq!(hosts.hosts, ["web01"]);
        assert_eq!(*why, Resolution::Disappeared);
        assert_eq!(source.firing(), 4);

        // Ack DbDown: a silence of its labels, read back.
        let Some(db) = source
            .client()
            .alerts()
            .await
            .ok()
            .and_then(|all| all.into_iter().find(|a| a.name() == "DbDown"))
        else {
            panic!("DbDown not listed")
        };
        let before = OffsetDateTime::now_utc();
        let id = match source
            .ack_as(&db.labels, "tester@console", "looking at it")
            .await
        {
            Ok(id) => id,
            Err(e) => panic!("ack: {e}\n{}", am.log_tail(20)),
        };
        let silences = match source.client().silences().await {
            Ok(s) => s,
            Err(e) => panic!("silences: {e}"),
        };
        let Some(silence) = silences.iter().find(|s| s.id == id) else {
            panic!("silence {id} not listed: {silences:#?}")
        };
        assert_eq!(silence.created_by, "tester@console");
        assert_eq!(silence.comment, "looking at it");
        assert_eq!(silence.state, "active");
        let matched: BTreeMap<String, String> = silence
            .matchers
            .iter()
            .map(|m| {
                assert!(m.is_equal && !m.is_regex, "{m:?}");
                (m.name.clone(), m.value.clone())
            })
            .collect();
        assert_eq!(matched, db.labels);
        // Two hours from the ack (the default `ack_silence`), give or take the request.
        let Some(ends) = silence.ends_at else {
            panic!("{silence:?}")
        };
        let length = ends - before;
        assert!(
            length > time::Duration::minutes(119) && length <= time::Duration::minutes(121),
            "{length}"
        );

        // Alertmanager now shows DbDown as suppressed by that silence (bounded wait).
        let mut suppressed = false;
        for _ in 0..50 {
            let alerts = source.client().alerts().await.unwrap_or_default();
            if alerts.iter().any(|a| {
                a.name() == "DbDown"
                    && a.state == AlertState::Suppressed
                    && a.silenced_by == [id.clone()]
            }) {
                suppressed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(suppressed, "DbDown never showed as silenced by {id}");
        // A silenced alert is still firing: no resolution.
        let obs = source.poll(&idx).await;
        assert!(matches!(&obs, Ok(o) if o.is_empty()), "{obs:?}");

        // Alertmanager stops: the poll fails with the URL, and nothing resolves.
        let url = am.url();
        drop(am);
        let Err(e) = source.poll(&idx).await else {
            panic!("poll of a stopped alertmanager succeeded")
        };
        assert_eq!(e.kind, AmErrorKind::Refused, "{e}");
        assert!(
            e.to_string().contains(&format!("{url}/api/v2/alerts")),
            "{e}"
        );
        assert_eq!(source.firing(), 4);
    })
    .await;
}

#[tokio::test]
async fn ten_thousand_alerts_at_once() {
    if !alertmanager_or_skip("ten_thousand_alerts_at_once") {
        return;
    }
    bounded(async {
        let am = start();
        const N: usize = 10_000;
        let hosts: Vec<String> = (1..=1000).map(|i| format!("node{i:04}")).collect();
        for batch in 0..10 {
            let alerts: Vec<Value> = (batch * 1000..(batch + 1) * 1000)
                .map(|i| {
                    let instance = format!("{}:9100", hosts[i % hosts.len()]);
                    let rule = format!("Rule{}", i / hosts.len());
                    alert(&rule, &[("instance", &instance), ("severity", "warning"), ("team", "ops")], None)
                })
                .collect();
            post_alerts(&am, &alerts).await;
        }
        let idx = HostIndex::new(hosts.iter().map(|h| (h.as_str(), None)));

        // The raw body once, to time parsing on its own.
        let url = format!("{}/api/v2/alerts", am.url());
        let body = match reqwest::get(&url).await {
            Ok(r) => r.bytes().await.unwrap_or_default(),
            Err(e) => panic!("GET {url}: {e}"),
        };
        let started = Instant::now();
        let parsed = parse_alerts(&body);
        let parse_time = started.elapsed();
        let Ok(parsed) = parsed else { panic!("{parsed:?}") };
        assert_eq!(parsed.len(), N);

        let Ok(Some(mut source)) = AlertmanagerSource::from_settings(
            &fleetdeck::incident::alertmanager::AlertmanagerSettings {
                url: am.url(),
                ..Default::default()
            },
        ) else {
            panic!("no source")
        };
        let started = Instant::now();
        let obs = source.poll(&idx).await;
        let poll_time = started.elapsed();
        let Ok(obs) = obs else { panic!("{obs:?}") };
        assert_eq!(obs.len(), N);
        assert!(obs.iter().all(|o| matches!(o, Observation::Firing { hosts, .. } if hosts.hosts.len() == 1)));
        let started = Instant::now();
        let again = source.poll(&idx).await;
        let second_poll = started.elapsed();
        assert!(matches!(&again, Ok(o) if o.is_empty()));
        // Figures for the report (never asserted).
        eprintln!(
            "10,000 alerts: body {} KiB, parse {parse_time:?}, first poll (GET + parse + map + reconcile) {poll_time:?}, second poll {second_poll:?}",
            body.len() / 1024
        );
    })
    .await;
}

#[tokio::test]
async fn a_stopped_alertmanager_is_refused_with_the_url() {
    bounded(async {
        let port = match support::free_port() {
            Ok(p) => p,
            Err(e) => panic!("no port: {e}"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let Err(e) = client(&url, Duration::from_secs(5)).alerts().await else {
            panic!("nothing listens, yet alerts came")
        };
        assert_eq!(e.kind, AmErrorKind::Refused);
        assert!(
            e.to_string().starts_with(&format!(
                "Alertmanager at {url}/api/v2/alerts: connection refused"
            )),
            "{e}"
        );
    })
    .await;
}

async fn stub(answer: Answer) -> (HttpStub, String) {
    let stub = match HttpStub::start(answer).await {
        Ok(s) => s,
        Err(e) => panic!("cannot start the loopback server: {e}"),
    };
    // The stub answers every path the same; its URL ends in /metrics.
    let base = stub.url().trim_end_matches("/metrics").to_string();
    (stub, base)
}

#[tokio::test]
async fn a_hanging_alertmanager_times_out() {
    bounded(async {
        let (_stub, base) = stub(Answer::Hang).await;
        let Err(e) = client(&base, Duration::from_millis(500)).alerts().await else {
            panic!("a hung server answered")
        };
        assert_eq!(
            e.kind,
            AmErrorKind::TimedOut(Duration::from_millis(500)),
            "{e}"
        );
        assert!(
            e.to_string().contains(&format!("{base}/api/v2/alerts")),
            "{e}"
        );
        assert!(e.to_string().contains("timed out"), "{e}");
    })
    .await;
}

#[tokio::test]
async fn garbage_answers_are_clear_errors() {
    bounded(async {
        let cases: Vec<(Answer, &str)> = vec![
            (
                Answer::Fixed {
                    status: 200,
                    content_type: "text/html",
                    body: b"<html><body>Please log in</body></html>".to_vec(),
                },
                "not an Alertmanager alert list",
            ),
            (
                Answer::Fixed {
                    status: 200,
                    content_type: "application/json",
                    body: br#"{"status":"success","data":[]}"#.to_vec(),
                },
                "not an Alertmanager alert list",
            ),
            (
                Answer::Fixed {
                    status: 200,
                    content_type: "application/json",
                    body: br#"[{"fingerprint":"x","labels":{"a":"b"}}, {"fingerp"#.to_vec(),
                },
                "EOF while parsing",
            ),
            (
                Answer::Fixed {
                    status: 503,
                    content_type: "text/plain",
                    body: b"upstream connect error".to_vec(),
                },
                "HTTP 503: upstream connect error",
            ),
            (
                Answer::Stream {
                    line: "[[[[[[[[[[[[[[[[",
                    total: 64 << 20,
                },
                "answer larger than 1 MiB",
            ),
        ];
        for (answer, expected) in cases {
            let (_stub, base) = stub(answer.clone()).await;
            let c = client(&base, Duration::from_secs(10)).with_max_bytes(1 << 20);
            let Err(e) = c.alerts().await else {
                panic!("{answer:?} parsed")
            };
            let text = e.to_string();
            assert!(text.contains(expected), "{answer:?}: {text}");
            assert!(text.contains(&format!("{base}/api/v2/alerts")), "{text}");
        }
    })
    .await;
}
