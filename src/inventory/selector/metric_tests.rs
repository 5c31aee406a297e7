//! Metric terms in selectors: parsing errors, evaluation on facts, candidates, and a property
//! test against a plain set model.

use std::collections::BTreeSet;
use std::time::SystemTime;

use proptest::prelude::*;

use super::tests::host;
use super::*;
use crate::metrics::{Metric, Sample, Source};

/// web01..web06 (odd ones prod, group web), db1..db2 (prod, group db), lb (local).
fn inventory() -> Inventory {
    let mut hosts: Vec<Host> = (1..=6)
        .map(|i| {
            let env = if i % 2 == 1 { "prod" } else { "staging" };
            host(
                &format!("web{i:02}"),
                env,
                &[],
                &["web"],
                TransportKind::Ssh,
            )
        })
        .collect();
    hosts.push(host("db1", "prod", &[], &["db"], TransportKind::Ssh));
    hosts.push(host("db2", "prod", &[], &["db"], TransportKind::Agent));
    hosts.push(host("lb", "", &[], &[], TransportKind::Local));
    Inventory::new(hosts)
}

fn sample(cpu: Option<f64>, mem: Option<f64>, disk: Option<f64>, load: Option<f64>) -> Sample {
    let mut s = Sample::empty(Source::Agent, SystemTime::UNIX_EPOCH);
    s.cpu_pct = cpu;
    s.mem_pct = mem;
    s.disk_pct = disk;
    s.load1 = load;
    s
}

/// web01 busy, web02 idle, web03 busy but stale, web04 without cpu, db1 loaded, gpu1 (not in
/// the inventory) busy; the rest have no sample.
fn facts() -> MetricView {
    let mut v = MetricView::new();
    v.insert(
        "web01",
        sample(Some(95.0), Some(80.0), Some(96.0), Some(4.5)),
        true,
    );
    v.insert(
        "web02",
        sample(Some(50.2), Some(20.0), Some(40.0), Some(0.2)),
        true,
    );
    v.insert(
        "web03",
        sample(Some(99.0), Some(99.0), Some(99.0), Some(9.0)),
        false,
    );
    v.insert("web04", sample(None, Some(79.9), None, Some(1.5)), true);
    v.insert(
        "db1",
        sample(Some(10.0), Some(50.0), Some(10.0), Some(1.6)),
        true,
    );
    v.insert("gpu1", sample(Some(97.0), None, None, None), true);
    v
}

fn names(hosts: Vec<Host>) -> Vec<String> {
    hosts.into_iter().map(|h| h.name).collect()
}

fn with_facts(sel: &str) -> Vec<String> {
    let s = Selector::parse(sel).unwrap_or_else(|e| panic!("{e}"));
    names(
        s.resolve_with_metrics(&inventory(), &facts())
            .unwrap_or_else(|e| panic!("{e}")),
    )
}

fn candidates(sel: &str) -> Vec<String> {
    let s = Selector::parse(sel).unwrap_or_else(|e| panic!("{e}"));
    names(
        s.metric_candidates(&inventory())
            .unwrap_or_else(|e| panic!("{e}")),
    )
}

fn parse_err(sel: &str) -> (usize, String) {
    let e = Selector::parse(sel).expect_err(sel);
    (e.column, e.message)
}

#[test]
fn comparisons_match_fresh_samples_only() {
    assert_eq!(with_facts("cpu>90"), ["web01"]);
    assert_eq!(with_facts("cpu>=50.2"), ["web01", "web02"]);
    assert_eq!(with_facts("cpu<50"), ["db1"]);
    assert_eq!(with_facts("cpu <= 50.2"), ["web02", "db1"]);
    assert_eq!(with_facts("mem>=80"), ["web01"]);
    assert_eq!(with_facts("mem>=80%"), ["web01"]);
    assert_eq!(with_facts("disk>95"), ["web01"]);
    assert_eq!(with_facts("load>1.5"), ["web01", "db1"]);
    assert_eq!(with_facts("load>=1.5"), ["web01", "web04", "db1"]);
    // Missing data never matches, whichever way the comparison points.
    assert_eq!(with_facts("cpu<100"), ["web01", "web02", "db1"]);
    assert_eq!(with_facts("disk>=0"), ["web01", "web02", "db1"]);
}

#[test]
fn equality_compares_at_the_precision_written() {
    assert_eq!(with_facts("cpu=50"), ["web02"]);
    assert_eq!(with_facts("cpu=50.2"), ["web02"]);
    assert_eq!(with_facts("cpu=50.20"), ["web02"]);
    assert!(with_facts("cpu=50.3").is_empty());
    assert_eq!(with_facts("mem=80"), ["web01", "web04"]);
    assert_eq!(with_facts("mem=80.0"), ["web01"]);
}

#[test]
fn stale_matches_hosts_without_a_fresh_sample() {
    assert_eq!(
        with_facts("stale"),
        ["web03", "web05", "web06", "db2", "lb"]
    );
    assert_eq!(with_facts("@web!stale"), ["web01", "web02", "web04"]);
    assert_eq!(with_facts("!stale"), ["web01", "web02", "web04", "db1"]);
    // An ad-hoc host is looked up by name like the others.
    assert_eq!(with_facts("gpu1,gpu2&stale"), ["gpu2"]);
}

#[test]
fn metric_terms_filter_ad_hoc_hosts_but_never_invent_them() {
    assert_eq!(with_facts("gpu1&cpu>90"), ["gpu1"]);
    assert_eq!(with_facts("gpu[1-2]&cpu>90"), ["gpu1"]);
    assert!(with_facts("gpu1!cpu>90").is_empty());
    assert_eq!(with_facts("gpu1^cpu>90"), ["web01"]);
    assert_eq!(with_facts("env:prod&cpu>90,gpu2"), ["web01", "gpu2"]);
}

#[test]
fn resolve_refuses_metric_terms() {
    let inv = inventory();
    for (sel, column, term) in [
        ("cpu>90", 1, "cpu>90"),
        ("web01, mem >= 80", 8, "mem >= 80"),
        ("@web!stale", 6, "stale"),
    ] {
        let s = Selector::parse(sel).unwrap();
        assert!(s.has_metric_terms(), "{sel}");
        let e = s.resolve(&inv).expect_err(sel);
        assert_eq!(e.column, column, "{sel}");
        assert_eq!(
            e.message,
            format!(
                "metric term `{term}` needs the hosts' latest samples at column {column} (this command does not sample hosts)"
            )
        );
    }
    let plain = Selector::parse("web[01-03]^web02").unwrap();
    assert!(!plain.has_metric_terms());
    assert_eq!(names(plain.resolve(&inv).unwrap()), ["web01", "web03"]);
    // An unknown group ahead of the metric term is reported first, as written.
    let e = Selector::parse("@nope&cpu>90")
        .unwrap()
        .resolve(&inv)
        .unwrap_err();
    assert!(
        e.message.starts_with("unknown group `@nope`"),
        "{}",
        e.message
    );
}

#[test]
fn candidates_are_what_the_rest_of_the_selector_leaves_in_reach() {
    assert_eq!(
        candidates("env:prod&disk>90"),
        ["web01", "web03", "web05", "db1", "db2"]
    );
    assert_eq!(candidates("@web!stale"), candidates("@web"));
    assert_eq!(candidates("@db,cpu>90&@web"), candidates("@web"));
    assert_eq!(candidates("cpu>90").len(), 9);
    assert_eq!(candidates("!cpu>90").len(), 9);
    assert_eq!(candidates("web01^cpu>90").len(), 9);
    // web01 is surely in before `^web01`, so surely out after it.
    assert_eq!(candidates("web01,cpu>90^web01").len(), 8);
    assert!(!candidates("web01,cpu>90^web01").contains(&"web01".to_string()));
    assert_eq!(candidates("@db!cpu>90!db2"), ["db1"]);
    // Ad-hoc hosts stay candidates where a metric term filters them.
    assert_eq!(candidates("gpu1&cpu>90"), ["gpu1"]);
    assert_eq!(candidates("gpu1!stale"), ["gpu1"]);
    assert_eq!(candidates("gpu1^load>4").len(), 10);
    // Without metric terms: exactly what `resolve` gives.
    assert_eq!(
        candidates("@web!web02,gpu1"),
        ["web01", "web03", "web04", "web05", "web06", "gpu1"]
    );
}

#[test]
fn unknown_metric_suggests_the_term() {
    assert_eq!(
        parse_err("cpux>9"),
        (
            1,
            "unknown metric `cpux` at column 1 (did you mean `cpu>9`?)".into()
        )
    );
    assert_eq!(
        parse_err("@web&memory >= 80"),
        (
            6,
            "unknown metric `memory` at column 6 (did you mean `mem>=80`?)".into()
        )
    );
    assert_eq!(
        parse_err("CPU>90"),
        (
            1,
            "unknown metric `CPU` at column 1 (did you mean `cpu>90`?)".into()
        )
    );
    assert_eq!(
        parse_err("web01,temperature>50"),
        (
            7,
            "unknown metric `temperature` at column 7 (metrics: cpu, mem, disk or load)".into()
        )
    );
    // Network rates are sample fields, not selector metrics.
    assert!(
        parse_err("net_rx>10")
            .1
            .starts_with("unknown metric `net_rx`")
    );
    let e = Selector::parse("web01&cpux>9").unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown metric `cpux` at column 7 (did you mean `cpu>9`?)\n  web01&cpux>9\n        ^"
    );
}

#[test]
fn bad_numbers_and_missing_metrics() {
    let hint = "(a number such as `cpu>90` or `cpu<=12.5`)";
    assert_eq!(
        parse_err("cpu>abc"),
        (
            5,
            format!("invalid number `abc` in `cpu>abc` at column 5 {hint}")
        )
    );
    assert_eq!(
        parse_err("web01,cpu>"),
        (
            11,
            format!("missing number after `cpu>` at column 11 {hint}")
        )
    );
    assert_eq!(
        parse_err("cpu>NaN"),
        (
            5,
            format!("invalid number `NaN` in `cpu>NaN` at column 5 {hint}")
        )
    );
    for bad in [
        "cpu>inf", "cpu>-1", "cpu>1e2", "cpu>=>5", "cpu==90", "cpu>9 0",
    ] {
        let (col, msg) = parse_err(bad);
        assert!(msg.starts_with("invalid number"), "{bad}: {msg}");
        assert!(col > 3, "{bad}: {col}");
    }
    assert_eq!(
        parse_err("load<"),
        (
            6,
            "missing number after `load<` at column 6 (a number such as `load>4` or `load<0.5`)"
                .into()
        )
    );
    assert_eq!(
        parse_err(">90"),
        (
            1,
            "comparison `>90` without a metric at column 1 (write it as `cpu>90`; metrics: cpu, mem, disk or load)"
                .into()
        )
    );
    assert_eq!(
        parse_err("@web&=5"),
        (
            6,
            "comparison `=5` without a metric at column 6 (write it as `cpu=5`; metrics: cpu, mem, disk or load)"
                .into()
        )
    );
    assert_eq!(
        parse_err("mem>150"),
        (
            5,
            "mem is a percentage: `150` is more than 100 at column 5".into()
        )
    );
    assert_eq!(
        parse_err("load>4%"),
        (
            7,
            "load is not a percentage: drop the `%` at column 7".into()
        )
    );
}

#[test]
fn comparison_characters_never_reach_node_sets_or_globs() {
    for sel in ["web[01-02]>3", "web*>3", "a=b", "user@host=1"] {
        assert!(parse_err(sel).1.starts_with("unknown metric"), "{sel}");
    }
    // Prefixed terms and regexes keep them.
    let inv = Inventory::new(vec![
        host("a", "", &["role=web"], &[], TransportKind::Ssh),
        host("b", "", &[], &[], TransportKind::Ssh),
    ]);
    let resolve = |sel: &str| names(Selector::parse(sel).unwrap().resolve(&inv).unwrap());
    assert_eq!(resolve("tag:role=web"), ["a"]);
    assert_eq!(resolve("~^[a=]$"), ["a"]);
    // `user@host` stays an ssh destination.
    assert_eq!(resolve("deploy@gpu1"), ["deploy@gpu1"]);
}

#[test]
fn metric_view_from_fresh_samples() {
    let view: MetricView = [("web01".to_string(), sample(Some(91.0), None, None, None))]
        .into_iter()
        .collect();
    assert!(!view.is_stale("web01"));
    assert!(view.is_stale("web02"));
    assert_eq!(view.latest("web01", Metric::Cpu), Some(91.0));
    assert_eq!(view.latest("web01", Metric::Mem), None);
    let s = Selector::parse("cpu>90").unwrap();
    assert_eq!(
        names(s.resolve_with_metrics(&inventory(), &view).unwrap()),
        ["web01"]
    );
}

// ---------------------------------------------------------------------------------------------
// Property: on random selectors and facts, `resolve_with_metrics` agrees with a plain set model
// and stays within `metric_candidates`.

/// h1..h6: h1-h3 in group a, h4 in group b; h2 and h4 tagged t; h1, h3, h5 prod; h5 local,
/// h6 agent.
fn small_inventory() -> Inventory {
    let t = |i: usize| match i {
        5 => TransportKind::Local,
        6 => TransportKind::Agent,
        _ => TransportKind::Ssh,
    };
    Inventory::new(
        (1..=6)
            .map(|i| {
                let groups: &[&str] = match i {
                    1..=3 => &["a"],
                    4 => &["b"],
                    _ => &[],
                };
                let tags: &[&str] = if i == 2 || i == 4 { &["t"] } else { &[] };
                let env = if i % 2 == 1 && i < 6 { "prod" } else { "" };
                host(&format!("h{i}"), env, tags, groups, t(i))
            })
            .collect(),
    )
}

/// Every name a generated selector can mention.
const NAMES: [&str; 9] = ["h1", "h2", "h3", "h4", "h5", "h6", "x1", "x2", "x3"];

/// The terms the property draws from, each with its meaning in the model.
const TERMS: [&str; 19] = [
    "all",
    "@a",
    "@b",
    "tag:t",
    "env:prod",
    "transport:ssh",
    "h[1-3]",
    "h2",
    "x1",
    "x[1-2]",
    "x[2-3]",
    "*1",
    "~[13]$",
    "~^h[12]",
    "cpu>50",
    "mem<=20",
    "load>1.5",
    "disk=40",
    "stale",
];

const OPS: [&str; 9] = [",", "&", "!", "^", ",&", ",!", ",^", " ^ ", ", ^"];

#[derive(Debug, Clone, Copy)]
struct Fact {
    fresh: bool,
    cpu: Option<f64>,
    mem: Option<f64>,
    disk: Option<f64>,
    load: Option<f64>,
}

/// Whether `name` (in the inventory or not) is in `term`'s set, given the facts. Names not in
/// the inventory are ad-hoc hosts: ssh destinations without groups, tags or environment.
fn model_term(term: &str, name: &str, inv: &Inventory, facts: &[Option<Fact>; 9]) -> bool {
    let host = inv.get(name);
    let in_inv = host.is_some();
    let idx = NAMES.iter().position(|n| *n == name);
    let fact = idx.and_then(|i| facts[i]).filter(|f| f.fresh);
    let num = |v: Option<f64>, f: &dyn Fn(f64) -> bool| v.is_some_and(f);
    match term {
        "all" => in_inv,
        "@a" => host.is_some_and(|h| h.groups.contains("a")),
        "@b" => host.is_some_and(|h| h.groups.contains("b")),
        "tag:t" => host.is_some_and(|h| h.tags.contains("t")),
        "env:prod" => host.is_some_and(|h| h.env.as_deref() == Some("prod")),
        "transport:ssh" => host.is_none_or(|h| h.transport == TransportKind::Ssh),
        "h[1-3]" => ["h1", "h2", "h3"].contains(&name),
        "h2" | "x1" => term == name,
        "x[1-2]" => ["x1", "x2"].contains(&name),
        "x[2-3]" => ["x2", "x3"].contains(&name),
        "*1" => name.ends_with('1'),
        "~[13]$" => name.ends_with(['1', '3']),
        "~^h[12]" => name.starts_with("h1") || name.starts_with("h2"),
        "cpu>50" => fact.is_some_and(|f| num(f.cpu, &|v| v > 50.0)),
        "mem<=20" => fact.is_some_and(|f| num(f.mem, &|v| v <= 20.0)),
        "load>1.5" => fact.is_some_and(|f| num(f.load, &|v| v > 1.5)),
        "disk=40" => fact.is_some_and(|f| num(f.disk, &|v| (39.5..40.5).contains(&v))),
        "stale" => fact.is_none(),
        other => panic!("no model for `{other}`"),
    }
}

/// Whether `term` is a node set (names it lists are selected even outside the inventory).
fn lists_names(term: &str) -> bool {
    term.starts_with(['h', 'x'])
}

fn model(
    from_all: bool,
    steps: &[(&str, &str)],
    inv: &Inventory,
    facts: &[Option<Fact>; 9],
) -> BTreeSet<String> {
    let mut acc: BTreeSet<String> = if from_all {
        inv.hosts().iter().map(|h| h.name.clone()).collect()
    } else {
        BTreeSet::new()
    };
    for (op, term) in steps {
        // The term's set: inventory hosts it matches, the names a node set lists, and the
        // ad-hoc hosts selected so far that it matches.
        let set: BTreeSet<String> = NAMES
            .iter()
            .filter(|&&n| {
                let in_inv = inv.get(n).is_some();
                let listed = lists_names(term) && model_term(term, n, inv, facts);
                let selected_ad_hoc = !in_inv && acc.contains(n);
                listed || ((in_inv || selected_ad_hoc) && model_term(term, n, inv, facts))
            })
            .map(|n| n.to_string())
            .collect();
        acc = match op.trim() {
            "," => acc.union(&set).cloned().collect(),
            "&" | ",&" => acc.intersection(&set).cloned().collect(),
            "!" | ",!" => acc.difference(&set).cloned().collect(),
            _ => acc.symmetric_difference(&set).cloned().collect(),
        };
    }
    acc
}

fn fact_strategy() -> impl Strategy<Value = Option<Fact>> {
    let pct = || {
        prop::option::of(prop::sample::select(vec![
            0.0, 20.0, 39.6, 40.4, 40.5, 50.0, 99.0,
        ]))
    };
    let load = prop::option::of(prop::sample::select(vec![0.0, 1.5, 1.6, 4.0]));
    prop::option::of((any::<bool>(), pct(), pct(), pct(), load).prop_map(
        |(fresh, cpu, mem, disk, load)| Fact {
            fresh,
            cpu,
            mem,
            disk,
            load,
        },
    ))
}

fn view(facts: &[Option<Fact>; 9]) -> MetricView {
    let mut v = MetricView::new();
    for (name, f) in NAMES.iter().zip(facts) {
        if let Some(f) = f {
            v.insert(*name, sample(f.cpu, f.mem, f.disk, f.load), f.fresh);
        }
    }
    v
}

proptest! {
    #[test]
    fn metric_evaluation_agrees_with_sets_and_stays_within_candidates(
        from_all in any::<bool>(),
        first in prop::sample::select(TERMS.to_vec()),
        rest in prop::collection::vec(
            (prop::sample::select(OPS.to_vec()), prop::sample::select(TERMS.to_vec())),
            0..6,
        ),
        facts in prop::array::uniform9(fact_strategy()),
    ) {
        let inv = small_inventory();
        let mut text = String::from(if from_all { "!" } else { "" });
        text.push_str(first);
        let mut steps = vec![(if from_all { "!" } else { "," }, first)];
        for &(op, term) in &rest {
            text.push_str(op);
            text.push_str(term);
            steps.push((op, term));
        }
        let sel = Selector::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let facts_view = view(&facts);
        let got = match sel.resolve_with_metrics(&inv, &facts_view) {
            Ok(hosts) => hosts,
            // Only an unknown group can fail, and the model inventory has both groups.
            Err(e) => return Err(TestCaseError::fail(format!("{text}: {e}"))),
        };
        let got_names: Vec<String> = got.iter().map(|h| h.name.clone()).collect();
        let got_set: BTreeSet<String> = got_names.iter().cloned().collect();
        prop_assert_eq!(got_set.len(), got_names.len(), "duplicates from {}", text);
        prop_assert_eq!(&got_set, &model(from_all, &steps, &inv, &facts), "{}", text);
        let cands: BTreeSet<String> = names(sel.metric_candidates(&inv).map_err(|e| TestCaseError::fail(format!("{e}")))?)
            .into_iter()
            .collect();
        prop_assert!(got_set.is_subset(&cands), "{}: {:?} not within {:?}", text, got_set, cands);
        if !sel.has_metric_terms() {
            let plain = names(sel.resolve(&inv).map_err(|e| TestCaseError::fail(format!("{e}")))?);
            prop_assert_eq!(&plain, &got_names, "{}", text);
            prop_assert_eq!(cands, got_set, "{}", text);
        }
    }
}
