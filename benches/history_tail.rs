//! Newest-first reading of a large history file, and single appends.
//!
//! A 1,000,000-record `history.jsonl` of realistic run records (~400 bytes each) is generated
//! once in a temporary folder (written directly, in the writer's format) and reused by every
//! iteration. The file is freshly written, so it sits in the page cache: the figures are for
//! a warm cache.

use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use fleetdeck::store::{
    JsonlWriter, Rotation, SCHEMA_VERSION, read_newest, read_newest_as, rfc3339_millis,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

const RECORDS: u64 = 1_000_000;

const USERS: [&str; 5] = ["alice", "bob", "carol", "dmitri", "oncall-bot"];
const SELECTORS: [&str; 4] = [
    "web[01-40]&env:prod",
    "@db!db07",
    "tag:edge,cache[1-8]",
    "k8s-node[001-120]&env:staging",
];
const COMMANDS: [&str; 4] = [
    "systemctl restart nginx && systemctl is-active nginx",
    "df -h / /var | tail -n +2",
    "journalctl -u kubelet --since -10m --no-pager | grep -c error",
    "apt-get -s upgrade | grep -c ^Inst",
];

#[derive(Serialize, Deserialize)]
struct HostResult {
    host: String,
    exit: i32,
    ms: u64,
}

#[derive(Serialize, Deserialize)]
struct RunRecord {
    id: String,
    user: String,
    selector: String,
    targets: u32,
    command: String,
    status: String,
    duration_ms: u64,
    ok: u32,
    failed: u32,
    unreachable: u32,
    hosts: Vec<HostResult>,
}

fn run_record(i: u64) -> RunRecord {
    let failed = u32::from(i.is_multiple_of(7));
    let hosts = (0..4)
        .map(|h| HostResult {
            host: format!("web{:02}", (i + h) % 40 + 1),
            exit: if h == 0 && failed == 1 { 1 } else { 0 },
            ms: 80 + (i * 31 + h * 17) % 900,
        })
        .collect();
    RunRecord {
        id: format!("r-{i:08x}"),
        user: USERS[(i % 5) as usize].to_owned(),
        selector: SELECTORS[(i % 4) as usize].to_owned(),
        targets: 40,
        command: COMMANDS[(i % 4) as usize].to_owned(),
        status: if failed == 1 { "failed" } else { "ok" }.to_owned(),
        duration_ms: 500 + (i * 7919) % 20_000,
        ok: 40 - failed,
        failed,
        unreachable: 0,
        hosts,
    }
}

/// Writes the history file as `JsonlWriter` would (`v`, `ts`, then the keys in order), but
/// straight through a `BufWriter`. Returns the time taken.
fn generate(path: &Path) -> Duration {
    let started = Instant::now();
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    let base = OffsetDateTime::now_utc() - Duration::from_secs(RECORDS * 30);
    for i in 0..RECORDS {
        let ts = rfc3339_millis(base + Duration::from_millis(i * 30_000 + i % 1000));
        let value = serde_json::to_value(run_record(i)).unwrap();
        // serde_json's map keeps keys sorted, exactly as the writer emits them after v and ts.
        let serde_json::Value::Object(map) = value else {
            unreachable!()
        };
        write!(out, "{{\"v\":{SCHEMA_VERSION},\"ts\":\"{ts}\"").unwrap();
        for (key, value) in &map {
            write!(out, ",\"{key}\":{value}").unwrap();
        }
        out.write_all(b"}\n").unwrap();
    }
    out.into_inner().unwrap().sync_all().unwrap();
    started.elapsed()
}

fn history_tail(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("history.jsonl");
    let took = generate(&path);
    let size = std::fs::metadata(&path).unwrap().len();
    eprintln!(
        "generated {RECORDS} records, {size} bytes ({:.1} MiB, {} bytes/record) in {took:.2?}",
        size as f64 / (1024.0 * 1024.0),
        size / RECORDS
    );

    let mut group = c.benchmark_group("history_tail");
    group.sample_size(20);
    group.bench_function("read_newest_20_of_1M", |b| {
        b.iter(|| {
            let report = read_newest(black_box(&path), 20).unwrap();
            assert_eq!(report.records.len(), 20);
            report
        })
    });
    group.bench_function("read_newest_as_20_of_1M_typed", |b| {
        b.iter(|| {
            let report = read_newest_as::<RunRecord>(black_box(&path), 20).unwrap();
            assert_eq!(report.records.len(), 20);
            report
        })
    });
    let append_path = dir.path().join("append.jsonl");
    let mut writer = JsonlWriter::open(&append_path, Rotation::NEVER, SCHEMA_VERSION).unwrap();
    let record = run_record(42);
    group.bench_function("append_one_record", |b| {
        b.iter(|| writer.append(black_box(&record)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, history_tail);
criterion_main!(benches);
