//! Selector resolution and node set expansion/folding on a 10,000-host inventory.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use fleetdeck::inventory::nodeset::{expand, fold};
use fleetdeck::inventory::selector::Selector;
use fleetdeck::inventory::{Host, Inventory, TransportKind};

const HOSTS: usize = 10_000;

/// `web00001`…`web10000`, envs prod/staging/dev, tags t0…t9, groups g0…g6, every 50th host
/// through the agent.
fn inventory() -> Inventory {
    let envs = ["prod", "staging", "dev"];
    let hosts = (1..=HOSTS)
        .map(|i| {
            let mut h = Host::ad_hoc(&format!("web{i:05}"));
            h.in_inventory = true;
            h.env = Some(envs[i % envs.len()].to_string());
            h.tags = [format!("t{}", i % 10), format!("t{}", (i / 10) % 10)]
                .into_iter()
                .collect();
            h.groups = [format!("g{}", i % 7)].into_iter().collect();
            if i % 50 == 0 {
                h.transport = TransportKind::Agent;
            }
            h
        })
        .collect();
    Inventory::new(hosts)
}

fn selectors(c: &mut Criterion) {
    let inv = inventory();
    let mut group = c.benchmark_group("resolve");
    for sel in [
        "all",
        "web[00001-05000]&env:prod!web00007",
        "@g3,tag:t5",
        "~^web0001",
    ] {
        group.bench_function(sel, |b| {
            b.iter(|| {
                Selector::parse(black_box(sel))
                    .unwrap()
                    .resolve(black_box(&inv))
                    .unwrap()
            })
        });
    }
    group.finish();
}

fn nodesets(c: &mut Criterion) {
    let pattern = "web[00001-10000]";
    let names = expand(pattern).unwrap();
    assert_eq!(names.len(), HOSTS);
    let mut group = c.benchmark_group("nodeset");
    group.bench_function("expand 10000", |b| {
        b.iter(|| expand(black_box(pattern)).unwrap())
    });
    group.bench_function("fold 10000", |b| {
        b.iter(|| fold(black_box(&names).iter().map(String::as_str)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = selectors, nodesets
}
criterion_main!(benches);
