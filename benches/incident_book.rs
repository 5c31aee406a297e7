//! Loading the incident book: 100,000 events (10,000 incidents from agents and
//! Alertmanager, each opened, seen again, acknowledged, noted, and most resolved, some
//! reopened) read and folded into incidents, as every front end does when it starts.
//!
//! The file is generated once in a temporary folder through the store's writer and reused by
//! every iteration; it sits in the page cache, so the figure is for a warm cache.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use fleetdeck::incident::{Book, Event, Severity, Source, What};
use fleetdeck::store::{JsonlWriter, Rotation};

const EVENTS: usize = 100_000;
const PER_INCIDENT: usize = 10;

fn ts(n: usize) -> String {
    format!(
        "2026-12-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        1 + (n / 3_600_000) % 28,
        (n / 60_000) % 24,
        (n / 1000) % 60,
        (n / 17) % 60,
        n % 1000
    )
}

fn event(n: usize) -> Event {
    let incident = n / PER_INCIDENT;
    let id = format!("{incident:08x}");
    let step = n % PER_INCIDENT;
    let host = format!("web{:03}", incident % 400);
    let what = match step {
        0 => What::Opened {
            source: if incident.is_multiple_of(3) {
                Source::Alertmanager
            } else {
                Source::Agent
            },
            fingerprint: format!("{host}/watcher{}", incident % 7),
            title: format!("process worker{} is not running on {host}", incident % 7),
            severity: Severity::Critical,
            hosts: vec![host.clone()],
            labels: BTreeMap::from([
                ("host".to_string(), host.clone()),
                ("watcher".to_string(), format!("watcher{}", incident % 7)),
                ("env".to_string(), "prod".to_string()),
            ]),
            annotations: BTreeMap::from([(
                "runbook_url".to_string(),
                "https://runbooks.example/worker".to_string(),
            )]),
            at: ts(n),
        },
        1..=3 => What::Seen {
            at: ts(n),
            refire: step == 2,
        },
        4 => What::Acked {
            who: "alice@ops".to_string(),
            comment: Some("looking into it".to_string()),
        },
        5 | 6 => What::Note {
            who: "bob@ops".to_string(),
            text: format!("restarted worker on {host}, watching"),
        },
        7 => What::ActionRun {
            who: Some("alice@ops".to_string()),
            run_id: format!("01JRUN{incident:020}"),
            result: "ok".to_string(),
        },
        8 => What::Resolved {
            who: None,
            comment: None,
            at: Some(ts(n)),
        },
        _ if incident.is_multiple_of(5) => What::Reopened {
            at: ts(n),
            title: "process worker is not running".to_string(),
            severity: Severity::Warning,
            hosts: vec![host],
        },
        _ => What::Note {
            who: "carol@ops".to_string(),
            text: "post-mortem scheduled".to_string(),
        },
    };
    Event {
        v: None,
        ts: ts(n),
        id,
        what,
    }
}

fn write_book(path: &Path) {
    let mut w = JsonlWriter::open(path, Rotation::NEVER, 1).expect("a writable temporary folder");
    for n in 0..EVENTS {
        w.append(&event(n)).expect("an append");
    }
}

fn incident_book(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("incidents.jsonl");
    write_book(&path);
    let check = Book::open(&path, Rotation::NEVER).expect("the book loads");
    assert_eq!(check.events_read(), EVENTS as u64);
    assert!(check.damaged().is_empty(), "{:?}", check.damaged());
    assert_eq!(check.list(true).len(), EVENTS / PER_INCIDENT);

    let mut group = c.benchmark_group("incident_book");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("load_100k_events", |b| {
        b.iter(|| {
            let book = Book::open(black_box(&path), Rotation::NEVER).expect("the book loads");
            black_box(book.list(false).len())
        });
    });
    group.finish();
}

criterion_group!(benches, incident_book);
criterion_main!(benches);
