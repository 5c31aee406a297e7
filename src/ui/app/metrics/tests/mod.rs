//! The Metrics view driven by keys and messages (cursor, metric, zoom, marks, series asked
//! once per frame) and its TestBackend snapshots; and the metrics frames the Fleet table's
//! tests use too: fresh, stale, failing, no-metrics and never-sampled hosts, and a fleet of
//! a thousand; and run statistics as `engine::read_stats` would count them.

mod keys;
mod snapshots;
mod stats;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::inventory::load::parse;
use crate::inventory::{Host, Inventory};
use crate::metrics::{Availability, HostNow, MetricsFrame, Point, Sample, Source, Window};
use crate::ui::app::Model;
use crate::ui::app::tests::{model, test_now, tick};
use crate::ui::app::update::{Msg, update};
use crate::ui::keymap::builtin;
use crate::ui::theme::Theme;

/// A sample `age` seconds before [`test_now`].
fn sample(source: Source, age: u64, values: [Option<f64>; 4]) -> Sample {
    let mut s = Sample::empty(source, test_now() - Duration::from_secs(age));
    [s.cpu_pct, s.mem_pct, s.disk_pct, s.load1] = values;
    s.net_rx_bps = Some(120_000.0);
    s.net_tx_bps = Some(30_000.0);
    s
}

/// Eight points before `latest`, 5 s apart, climbing from `from` (a share of each value) to
/// the sample's own values.
fn trend(latest: &Sample, from: f64) -> Vec<Point> {
    (0..8u32)
        .map(|i| {
            let share = from + (1.0 - from) * f64::from(i) / 7.0;
            let mut s = latest.clone();
            s.ts = latest.ts - Duration::from_secs(u64::from(7 - i) * 5);
            for v in [
                &mut s.cpu_pct,
                &mut s.mem_pct,
                &mut s.disk_pct,
                &mut s.load1,
            ] {
                *v = v.map(|v| v * share);
            }
            Point::from_sample(&s)
        })
        .collect()
}

/// A host sampled every `every` seconds whose newest sample is `age` seconds old.
fn host_now(source: Source, every: u64, age: u64, values: [Option<f64>; 4], from: f64) -> HostNow {
    let latest = sample(source, age, values);
    HostNow {
        trend: trend(&latest, from),
        latest: Some(latest),
        availability: Availability::Sampled,
        interval: Some(Duration::from_secs(every)),
    }
}

/// The test model's hosts: web01-06 fresh (web06 over SSH without a real disk), web07 stale
/// (2 minutes, every 15 s), web08 stale and now failing, db01 not Linux, db02 failing before
/// any sample, db03 waiting, lab1 not in the frame at all.
pub(crate) fn test_frame() -> Arc<MetricsFrame> {
    let agent = Source::Agent;
    let mut hosts = std::collections::HashMap::new();
    let fresh = [
        ("web01", [12.0, 40.0, 55.0, 0.42], 0.5),
        ("web02", [97.0, 88.0, 71.0, 7.9], 0.3),
        ("web03", [55.0, 62.0, 91.0, 2.1], 1.5),
        ("web04", [33.0, 20.0, 30.0, 1.0], 1.0),
        ("web05", [71.0, 45.0, 80.0, 3.3], 0.8),
    ];
    for (name, v, from) in fresh {
        let values = v.map(Some);
        hosts.insert(name.to_string(), host_now(agent, 1, 1, values, from));
    }
    let no_disk = [Some(5.0), Some(15.0), None, Some(0.05)];
    hosts.insert("web06".into(), host_now(Source::Ssh, 15, 4, no_disk, 2.0));
    let old = [Some(87.0), Some(50.0), Some(40.0), Some(1.5)];
    hosts.insert("web07".into(), host_now(Source::Ssh, 15, 120, old, 1.0));
    let mut failing = host_now(Source::NodeExporter, 15, 600, old, 1.0);
    failing.availability = Availability::Failing("connection refused".into());
    hosts.insert("web08".into(), failing);
    let none = |why: &str| HostNow {
        availability: Availability::NoMetrics(why.into()),
        ..HostNow::default()
    };
    hosts.insert("db01".into(), none("not Linux (no /proc)"));
    hosts.insert(
        "db02".into(),
        HostNow {
            availability: Availability::Failing("exporter refused the connection".into()),
            interval: Some(Duration::from_secs(15)),
            ..HostNow::default()
        },
    );
    hosts.insert("db03".into(), HostNow::default());
    Arc::new(MetricsFrame {
        at: Some(test_now()),
        hosts,
    })
}

/// The test model with [`test_frame`].
pub(crate) fn with_frame() -> Model {
    let mut m = model();
    update(&mut m, Msg::Metrics(test_frame()));
    m
}

/// `n` hosts `h0001`…, with values spread over every level; every 17th stale, every 29th
/// without metrics, every 31st never sampled.
pub(crate) fn fleet_of(n: usize) -> Model {
    let toml = format!("[[hosts]]\nname = \"h[0001-{n:04}]\"\nenv = \"prod\"\n");
    let inventory = parse(std::path::Path::new("hosts.toml"), &toml).expect("inventory");
    let frame = fleet_frame(&inventory);
    let theme = Theme::builtin("dark").expect("theme");
    let mut m = Model::new(inventory, builtin().expect("keymap"), theme, Vec::new());
    update(&mut m, tick("12:00:00"));
    update(&mut m, Msg::Metrics(frame));
    m
}

pub(crate) fn fleet_frame(inventory: &Inventory) -> Arc<MetricsFrame> {
    let hosts = inventory
        .hosts()
        .iter()
        .enumerate()
        .map(|(i, h): (usize, &Host)| {
            // A spread that is not a pattern of the grid's width: every level appears.
            let spread = |k: usize| ((i * k + i / 7) % 101) as f64;
            let values = [
                Some(spread(37)),
                Some(spread(53)),
                Some(spread(11)),
                Some(spread(29) / 10.0),
            ];
            let now = if i % 31 == 0 {
                HostNow::default()
            } else if i % 29 == 0 {
                HostNow {
                    availability: Availability::NoMetrics("not Linux".into()),
                    ..HostNow::default()
                }
            } else if i % 17 == 0 {
                host_now(Source::Ssh, 15, 300, values, 1.0)
            } else {
                host_now(Source::Agent, 1, 1, values, 0.5)
            };
            (h.name.clone(), now)
        })
        .collect();
    Arc::new(MetricsFrame {
        at: Some(test_now()),
        hosts,
    })
}

/// Fifteen minutes of a host's samples every 5 s: cpu waving, mem flat, disk filling, load
/// following cpu, net in bursts; a minute missing in the middle.
pub(crate) fn series(at: SystemTime) -> Vec<Point> {
    (0..180u32)
        .filter(|i| !(90..102).contains(i))
        .map(|i| {
            let x = f64::from(i);
            let mut s = Sample::empty(
                Source::Agent,
                at - Duration::from_secs(u64::from(180 - i) * 5),
            );
            s.cpu_pct = Some(50.0 + 40.0 * (x / 12.0).sin());
            s.mem_pct = Some(62.0);
            s.disk_pct = Some(70.0 + x / 10.0);
            s.load1 = Some(2.0 + 1.5 * (x / 12.0).sin());
            s.net_rx_bps = Some(if i % 30 < 5 { 2.0e6 } else { 1.0e5 });
            s.net_tx_bps = Some(3.0e4);
            Point::from_sample(&s)
        })
        .collect()
}

/// Answers the series the model asked for (the focused host's) with [`series`].
pub(crate) fn answer_series(m: &mut Model) {
    let Some(key) = m.metrics.requested.clone() else {
        panic!("no series asked for");
    };
    let points = if key.window == Window::Min15 {
        series(test_now())
    } else {
        Vec::new()
    };
    update(
        m,
        Msg::Series {
            host: key.host,
            window: key.window,
            points,
            at: test_now(),
        },
    );
}

/// A day of runs: an action most often, with exit failures; commands ok, unreachable, timed
/// out, one with a long name; a run audit.jsonl says started elsewhere and never ended.
pub(crate) fn test_stats() -> crate::metrics::stats::RunStats {
    use crate::metrics::stats::{HostOutcome, Outcome, RunRecord, StatsBuilder, Subject};
    let host = |outcome, detail: Option<&str>| HostOutcome {
        outcome,
        detail: detail.map(str::to_string),
    };
    let mut b = StatsBuilder::new(None);
    b.audit_started("01JELSEWHERE0000000000000", None);
    let mut add = |id: String, subject: Subject, ms: u64, hosts: Vec<HostOutcome>| {
        b.add(&RunRecord {
            id,
            subject,
            started: Some(time::macros::datetime!(2026-03-01 12:00 UTC)),
            duration_ms: Some(ms),
            hosts,
        });
    };
    for i in 0..12u64 {
        let mut hosts = vec![host(Outcome::Ok, None); 3];
        let last = if i % 5 == 0 {
            host(Outcome::Failed, Some("exit"))
        } else {
            host(Outcome::Ok, None)
        };
        hosts.push(last);
        let action = Subject::Action("restart-nginx".into());
        add(format!("A{i}"), action, 2_000 + i * 300, hosts);
    }
    for i in 0..5u64 {
        let cmd = Subject::Command("systemctl status nginx --no-pager -l".into());
        add(
            format!("C{i}"),
            cmd,
            400 + i * 10,
            vec![host(Outcome::Ok, None); 3],
        );
    }
    for i in 0..2u64 {
        let mut hosts = vec![host(Outcome::Ok, None); 5];
        hosts.push(host(Outcome::Unreachable, Some("auth")));
        add(
            format!("D{i}"),
            Subject::Command("df -h".into()),
            900,
            hosts,
        );
    }
    let long = "journalctl -u app --since '1 hour ago' | tail -n 200";
    let hosts = vec![
        host(Outcome::Timeout, Some("command")),
        host(Outcome::Ok, None),
    ];
    add("J".into(), Subject::Command(long.into()), 95_000, hosts);
    b.finish()
}

/// Answers the run statistics the model asked for with `stats` (no warnings).
pub(crate) fn answer_stats(m: &mut Model, stats: crate::metrics::stats::RunStats) {
    update(m, Msg::StatsLoaded(Ok((stats, Vec::new()))));
}

/// Two console runs in flight: one running, one queued behind it.
pub(crate) fn with_runs(m: &mut Model) {
    use crate::ui::app::runs::{RunStart, RunView};
    for (id, queued) in [("01JRUNNING", false), ("01JQUEUED", true)] {
        let start = RunStart {
            id: id.into(),
            selector: "web01".into(),
            hosts: vec![crate::inventory::Host::ad_hoc("web01")],
            command: "uptime".into(),
            prepared: None,
            rerun_of: None,
            for_incidents: Vec::new(),
        };
        let mut run = RunView::new(&start);
        if queued {
            run.queued = Some((1, crate::engine::Priority::Normal));
        } else {
            run.started = true;
        }
        m.runs.list.push(run);
    }
}
