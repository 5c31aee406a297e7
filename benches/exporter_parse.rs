//! The cost of reading one node_exporter scrape: the exposition text parsed and mapped to a
//! reading, on a whole answer of the real exporter (node_exporter 1.5.0, Debian 12, 283
//! families, 57 KiB) and on the trimmed fixture the unit tests use.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fleetdeck::metrics::parse_exposition;

const FULL: &str = include_str!("../tests/fixtures/node_exporter/full-1.5.0.txt");
const TRIMMED: &str = include_str!("../tests/fixtures/node_exporter/node-1.5.0.txt");

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_exposition");
    for (name, text) in [("full_57KiB", FULL), ("trimmed_4KiB", TRIMMED)] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| parse_exposition(black_box(text)).is_ok());
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
