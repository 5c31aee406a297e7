//! Threshold rules as config.toml reads them, and the evaluator's transitions.

use std::path::Path;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;

use super::*;
use crate::config::Settings;
use crate::incident::facts::Severity;
use crate::inventory::Inventory;
use crate::metrics::{Metric, Sample, Source};

fn parse(src: &str) -> Result<Settings, String> {
    Settings::parse(Path::new("config.toml"), src).map_err(|d| d.to_string())
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + secs)
}

fn disk(secs: u64, pct: Option<f64>) -> Sample {
    let mut s = Sample::empty(Source::Agent, at(secs));
    s.disk_pct = pct;
    s
}

fn inventory() -> Inventory {
    crate::inventory::load::parse(
        Path::new("hosts.toml"),
        "[[hosts]]\nname = \"web[1-2]\"\ntransport = \"local\"\ngroups = [\"web\"]\n\
         [[hosts]]\nname = \"db1\"\ntransport = \"local\"\n",
    )
    .unwrap()
}

fn evaluator(src: &str) -> Evaluator {
    let settings = parse(src).unwrap();
    Evaluator::new(&settings.thresholds, &inventory()).unwrap()
}

#[test]
fn thresholds_are_read_with_defaults_and_round_trip() {
    let s = parse(
        "[[thresholds]]\nmetric = \"disk\"\nabove = 90\nfor = \"5m\"\nseverity = \"critical\"\n\
         selector = \"@web\"\n[[thresholds]]\nname = \"idle\"\nmetric = \"load\"\nbelow = 0.5\n",
    )
    .unwrap();
    let t = &s.thresholds[0];
    assert_eq!(t.name, "disk above 90 on @web");
    assert_eq!(t.metric, Metric::Disk);
    assert_eq!(t.bound, Bound::Above(90.0));
    assert_eq!(t.hold, Duration::from_secs(300));
    assert_eq!(t.severity, Severity::Critical);
    let idle = &s.thresholds[1];
    assert_eq!((idle.name.as_str(), idle.hold), ("idle", Duration::ZERO));
    assert_eq!(idle.severity, Severity::Warning);
    let text = toml::to_string(&s).unwrap();
    assert_eq!(parse(&text).unwrap(), s, "{text}");
    // No thresholds: nothing written, so the documented defaults stay as they were.
    assert!(!Settings::default_toml().contains("thresholds"));
}

#[test]
fn bad_thresholds_name_their_line() {
    let cases = [
        (
            "[[thresholds]]\nmetric = \"dsik\"\nabove = 90\n",
            "config.toml:2:10: unknown metric `dsik`: did you mean `disk`?",
        ),
        (
            "[[thresholds]]\nmetric = \"cpu\"\nabove = 90\nbelow = 10\n",
            "has both `above` and `below`",
        ),
        (
            "[[thresholds]]\nmetric = \"cpu\"\n",
            "needs `above` or `below`",
        ),
        (
            "[[thresholds]]\nmetric = \"mem\"\nabove = 120\n",
            "`mem` is a percentage: `above` must be between 0 and 100, got 120",
        ),
        (
            "[[thresholds]]\nmetric = \"cpu\"\nabove = 90\nfor = \"5\"\n",
            "config.toml:4:7: invalid duration `5`",
        ),
        (
            "[[thresholds]]\nmetric = \"cpu\"\nabove = 90\nseverity = \"page\"\n",
            "config.toml:4:12: unknown value `page`",
        ),
        (
            "[[thresholds]]\nmetric = \"cpu\"\nabove = 90\nselector = \"web[3-1]\"\n",
            "config.toml:4:12: selector `web[3-1]`:",
        ),
        (
            "[[thresholds]]\nmetric = \"cpu\"\nabove = 90\nselector = \"@web&cpu>5\"\n",
            "has a metric term",
        ),
        (
            "[[thresholds]]\nmetric = \"cpu\"\nabove = 90\nabvoe = 3\n",
            "config.toml:4:1: unknown key `abvoe`: did you mean `above`?",
        ),
        (
            "[[thresholds]]\nmetric = \"cpu\"\nabove = 90\n[[thresholds]]\nmetric = \"cpu\"\nabove = 90\n",
            "two thresholds are named `cpu above 90`",
        ),
    ];
    for (src, wanted) in cases {
        let err = parse(src).unwrap_err();
        assert!(err.contains(wanted), "{src}\nwanted {wanted}\ngot {err}");
        assert!(err.starts_with("config.toml:"), "{err}");
    }
}

#[test]
fn fires_after_for_and_clears_once() {
    let mut ev = evaluator(
        "[[thresholds]]\nname = \"disk full\"\nmetric = \"disk\"\nabove = 90\nfor = \"30s\"\n",
    );
    let feed = |ev: &mut Evaluator, secs, pct| {
        let s = disk(secs, pct);
        ev.observe([("web1", &s)])
    };
    assert!(feed(&mut ev, 0, Some(95.0)).is_empty(), "pending");
    assert!(feed(&mut ev, 15, Some(96.0)).is_empty(), "still pending");
    let fired = feed(&mut ev, 30, Some(97.0));
    let [Observation::Firing(b)] = fired.as_slice() else {
        panic!("{fired:?}");
    };
    assert_eq!(
        (b.threshold.as_str(), b.host.as_str()),
        ("disk full", "web1")
    );
    assert_eq!((b.value, b.since, b.at), (97.0, at(0), at(30)));
    let facts = b.facts();
    assert_eq!(facts.title, "disk full");
    assert_eq!(facts.hosts, vec!["web1".to_string()]);
    assert_eq!(facts.labels["metric"], "disk");
    assert_eq!(facts.labels["limit"], "above 90");
    assert_eq!(facts.labels["value"], "97.0");
    assert!(feed(&mut ev, 45, Some(99.0)).is_empty(), "fires once");
    assert_eq!(ev.firing(), vec![("disk full", "web1", at(0))]);
    let cleared = feed(&mut ev, 60, Some(50.0));
    let [Observation::Cleared(b)] = cleared.as_slice() else {
        panic!("{cleared:?}");
    };
    assert_eq!((b.value, b.since), (50.0, at(0)));
    assert!(feed(&mut ev, 75, Some(40.0)).is_empty());
    assert!(ev.firing().is_empty());
}

#[test]
fn a_dip_before_for_cancels_silently_and_zero_for_fires_at_once() {
    let mut ev = evaluator(
        "[[thresholds]]\nname = \"slow\"\nmetric = \"disk\"\nabove = 90\nfor = \"1m\"\n\
         [[thresholds]]\nname = \"now\"\nmetric = \"disk\"\nabove = 98\n",
    );
    let s = disk(0, Some(95.0));
    assert!(ev.observe([("db1", &s)]).is_empty());
    let s = disk(30, Some(80.0));
    assert!(ev.observe([("db1", &s)]).is_empty());
    let s = disk(90, Some(95.0));
    assert!(
        ev.observe([("db1", &s)]).is_empty(),
        "the clock restarted at 90"
    );
    let s = disk(100, Some(99.0));
    let out = ev.observe([("db1", &s)]);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].breach().threshold, "now");
}

#[test]
fn stale_or_missing_samples_neither_fire_nor_clear() {
    let mut ev = evaluator("[[thresholds]]\nname = \"d\"\nmetric = \"disk\"\nabove = 90\n");
    let high = disk(10, Some(95.0));
    assert_eq!(ev.observe([("web1", &high)]).len(), 1);
    // The same sample fed again every second: nothing new.
    for _ in 0..5 {
        assert!(ev.observe([("web1", &high)]).is_empty());
    }
    // An older sample saying all is well (clock stepped back) does not clear.
    let old_low = disk(5, Some(10.0));
    assert!(ev.observe([("web1", &old_low)]).is_empty());
    // A fresh sample without the metric says nothing either.
    let blind = disk(20, None);
    assert!(ev.observe([("web1", &blind)]).is_empty());
    assert_eq!(ev.firing().len(), 1);
    let low = disk(30, Some(10.0));
    assert!(matches!(
        ev.observe([("web1", &low)]).as_slice(),
        [Observation::Cleared(_)]
    ));
}

#[test]
fn selectors_scope_hosts_and_unknown_groups_fail() {
    let mut ev = evaluator(
        "[[thresholds]]\nname = \"w\"\nmetric = \"disk\"\nabove = 90\nselector = \"@web\"\n",
    );
    let s = disk(0, Some(99.0));
    let out = ev.observe([("web1", &s), ("db1", &s), ("web2", &s)]);
    let hosts: Vec<&str> = out.iter().map(|o| o.breach().host.as_str()).collect();
    assert_eq!(hosts, vec!["web1", "web2"]);
    assert_eq!(ev.state_count(), 2, "no state for hosts out of scope");
    ev.retain_hosts(|h| h != "web2");
    assert_eq!(ev.state_count(), 1);

    let settings =
        parse("[[thresholds]]\nmetric = \"cpu\"\nabove = 90\nselector = \"@nope\"\n").unwrap();
    let err = Evaluator::new(&settings.thresholds, &inventory()).unwrap_err();
    assert!(err.contains("unknown group `@nope`"), "{err}");
}

#[test]
fn a_metrics_frame_is_fed_in_host_order_and_repeats_change_nothing() {
    let mut ev = evaluator("[[thresholds]]\nname = \"d\"\nmetric = \"disk\"\nabove = 90\n");
    let mut frame = crate::metrics::MetricsFrame::default();
    for host in ["web2", "db1", "web1", "quiet"] {
        let now = crate::metrics::book::HostNow {
            latest: (host != "quiet").then(|| disk(5, Some(95.0))),
            ..Default::default()
        };
        frame.hosts.insert(host.to_string(), now);
    }
    let hosts: Vec<String> = ev
        .observe_frame(&frame)
        .iter()
        .map(|o| o.breach().host.clone())
        .collect();
    assert_eq!(hosts, vec!["db1", "web1", "web2"]);
    assert!(ev.observe_frame(&frame).is_empty());
}

#[test]
fn below_thresholds_breach_under_the_limit() {
    let mut ev = evaluator("[[thresholds]]\nname = \"l\"\nmetric = \"load\"\nbelow = 0.5\n");
    let mut s = Sample::empty(Source::Ssh, at(0));
    s.load1 = Some(0.5);
    assert!(
        ev.observe([("db1", &s)]).is_empty(),
        "strict: 0.5 is not below 0.5"
    );
    s.ts = at(1);
    s.load1 = Some(0.1);
    assert_eq!(ev.observe([("db1", &s)]).len(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Over any sequence of samples (some repeated, some missing the metric), firing and
    /// clearing alternate per host starting with firing, each breach fires only after
    /// `for`, and the state count never exceeds thresholds × hosts.
    #[test]
    fn transitions_alternate_and_respect_for(
        steps in proptest::collection::vec((0usize..3, 0u64..40, proptest::option::of(0.0f64..100.0)), 0..200),
        hold in 0u64..60,
    ) {
        let src = format!(
            "[[thresholds]]\nname = \"a\"\nmetric = \"disk\"\nabove = 80\nfor = \"{hold}s\"\n\
             [[thresholds]]\nname = \"b\"\nmetric = \"disk\"\nbelow = 20\n"
        );
        let mut ev = evaluator(&src);
        let hosts = ["web1", "web2", "db1"];
        let mut clock = [0u64; 3];
        let mut firing: std::collections::HashMap<(String, String), bool> = Default::default();
        for (h, advance, pct) in steps {
            clock[h] += advance;
            let s = disk(clock[h], pct);
            for o in ev.observe([(hosts[h], &s)]) {
                let b = o.breach();
                let key = (b.threshold.clone(), b.host.clone());
                let was = firing.get(&key).copied().unwrap_or(false);
                match &o {
                    Observation::Firing(b) => {
                        prop_assert!(!was, "fired twice: {o:?}");
                        let waited = b.at.duration_since(b.since).unwrap_or_default();
                        if b.threshold == "a" {
                            prop_assert!(waited >= Duration::from_secs(hold));
                            prop_assert!(b.value > 80.0);
                        } else {
                            prop_assert!(b.value < 20.0);
                        }
                        firing.insert(key, true);
                    }
                    Observation::Cleared(_) => {
                        prop_assert!(was, "cleared without firing: {o:?}");
                        firing.insert(key, false);
                    }
                }
            }
            prop_assert!(ev.state_count() <= 2 * hosts.len());
        }
    }
}
