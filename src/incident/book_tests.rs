//! The book against real files: several writers, rotation, damage.

use std::collections::BTreeMap;
use std::fs;

use super::book::{Book, BookError, book_lock_path};
use super::model::{Observation, Severity, Source, State};
use crate::store::{Rotation, rotated_path};

fn obs(fp: &str, firing: bool, ts: &str) -> Observation {
    Observation {
        source: Source::Check,
        fingerprint: fp.to_string(),
        title: format!("check {fp} failed"),
        severity: Severity::Warning,
        hosts: vec!["web01".to_string()],
        labels: BTreeMap::from([("check".to_string(), fp.to_string())]),
        annotations: BTreeMap::new(),
        firing,
        ts: ts.to_string(),
    }
}

const NEVER: Rotation = Rotation::NEVER;

#[test]
fn observe_ack_note_resolve_and_read_back_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents.jsonl");
    let mut a = Book::open(&path, NEVER).unwrap();
    let opened = a
        .observe(&obs("disk", true, "2026-12-07T10:00:00Z"))
        .unwrap()
        .unwrap();
    let id = opened.id.clone();
    assert!(
        a.observe(&obs("disk", true, "2026-12-07T10:00:00Z"))
            .unwrap()
            .is_none()
    );
    a.ack(&id[..3], "ops@m", Some("on it")).unwrap();
    a.note(&id, "ops@m", "cleaned /var/log").unwrap();
    a.record_action_run(&id, "01JRUN", "ok", Some("ops@m"))
        .unwrap();
    let mut b = Book::open(&path, NEVER).unwrap();
    assert_eq!(b.get(&id).unwrap().state, State::Acked);
    b.resolve(&id, "ops@m", None).unwrap();
    a.refresh().unwrap();
    let i = a.get(&id).unwrap();
    assert_eq!(i.state, State::Resolved);
    let events: Vec<&str> = i.timeline.iter().map(|t| t.event.as_str()).collect();
    assert_eq!(
        events,
        ["opened", "acked", "note", "action_run", "resolved"]
    );
    // Acknowledging or resolving a resolved incident is refused, and nothing is written.
    let size = fs::metadata(&path).unwrap().len();
    assert!(matches!(
        a.ack(&id, "ops@m", None),
        Err(BookError::State { .. })
    ));
    assert!(matches!(
        a.resolve(&id, "x", None),
        Err(BookError::State { .. })
    ));
    assert!(matches!(
        a.note("zzzzzzzz", "x", "y"),
        Err(BookError::Id(_))
    ));
    assert!(matches!(a.note(&id, "x", "  "), Err(BookError::Invalid(_))));
    assert_eq!(fs::metadata(&path).unwrap().len(), size);
    assert!(a.damaged().is_empty());
}

#[test]
fn threads_each_with_a_book_lose_nothing_and_open_one_incident_per_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents.jsonl");
    let writers = 6;
    let keys = 5;
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut book = Book::open(&path, NEVER).unwrap();
                let mut notes = 0;
                for k in 0..keys {
                    // Every writer reports every key firing: only one may open it.
                    book.observe(&obs(&format!("k{k}"), true, "2026-12-07T10:00:00Z"))
                        .unwrap();
                    let id = book
                        .list(false)
                        .into_iter()
                        .find(|i| i.fingerprint == format!("k{k}"))
                        .map(|i| i.id.clone())
                        .unwrap();
                    book.note(&id, &format!("w{w}"), &format!("note {w}/{k}"))
                        .unwrap();
                    notes += 1;
                }
                notes
            })
        })
        .collect();
    let notes: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let book = Book::open(&path, NEVER).unwrap();
    assert!(book.damaged().is_empty(), "{:?}", book.damaged());
    assert_eq!(book.list(true).len(), keys, "one incident per key");
    let written: usize = book
        .incidents()
        .map(|i| i.timeline.iter().filter(|t| t.event == "note").count())
        .sum();
    assert_eq!(written, notes);
    assert_eq!(notes, writers * keys);
}

#[test]
fn rotation_carries_active_incidents_and_keeps_reading_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents.jsonl");
    // Small files and few kept: the file that opened `keep` is deleted long before the end.
    let rotation = Rotation {
        max_bytes: 4096,
        keep: 1,
    };
    let mut a = Book::open(&path, rotation).unwrap();
    let mut b = Book::open(&path, rotation).unwrap();
    let keep = a
        .observe(&obs("keep", true, "2026-12-07T10:00:00Z"))
        .unwrap()
        .unwrap()
        .id;
    a.ack(&keep, "ops@m", Some("known")).unwrap();
    for n in 0..200 {
        let fp = format!("churn{n}");
        let writer = if n % 2 == 0 { &mut a } else { &mut b };
        writer
            .observe(&obs(&fp, true, "2026-12-07T10:00:00Z"))
            .unwrap();
        writer
            .observe(&obs(&fp, false, "2026-12-07T10:00:01Z"))
            .unwrap();
    }
    assert!(rotated_path(&path, 1).exists());
    assert!(!rotated_path(&path, 2).exists());
    for book in [&mut a, &mut b] {
        book.refresh().unwrap();
        let i = book.get(&keep).unwrap();
        assert_eq!(i.state, State::Acked);
        assert!(book.damaged().is_empty(), "{:?}", book.damaged());
    }
    let fresh = Book::open(&path, rotation).unwrap();
    let i = fresh.get(&keep).unwrap();
    assert_eq!((i.state, i.count), (State::Acked, 1));
    assert_eq!(i.timeline[1].text.as_deref(), Some("known"));
    // Still one incident for its key: a new firing is counted on it.
    let mut fresh = fresh;
    fresh
        .observe(&obs("keep", true, "2026-12-07T11:00:00Z"))
        .unwrap();
    assert_eq!(fresh.get(&keep).unwrap().count, 2);
    assert!(fresh.damaged().is_empty(), "{:?}", fresh.damaged());
    assert!(book_lock_path(&path).exists());
}

#[test]
fn damaged_lines_are_skipped_and_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents.jsonl");
    let mut a = Book::open(&path, NEVER).unwrap();
    let id = a
        .observe(&obs("disk", true, "2026-12-07T10:00:00Z"))
        .unwrap()
        .unwrap()
        .id;
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("{\"v\":1,\"ts\":garbage\n");
    text.push_str("{\"v\":1,\"ts\":\"2026-12-07T10:00:00.000Z\",\"id\":\"nope\",\"event\":\"note\",\"who\":\"x\",\"text\":\"y\"}\n");
    // A torn last line, as a crash mid-write leaves it.
    text.push_str("{\"v\":1,\"ts\":\"2026-12");
    fs::write(&path, text).unwrap();
    let mut b = Book::open(&path, NEVER).unwrap();
    let lines: Vec<u64> = b.damaged().iter().map(|c| c.line).collect();
    assert_eq!(lines, [2, 3]);
    assert!(b.damaged()[1].message.contains("never opened"));
    assert!(b.damaged()[0].to_string().contains("incidents.jsonl:2:"));
    // Writing closes the torn line off; it is reported then, and the note applies.
    b.take_damaged();
    b.note(&id, "ops@m", "still there").unwrap();
    let lines: Vec<u64> = b.damaged().iter().map(|c| c.line).collect();
    assert_eq!(lines, [4]);
    assert_eq!(b.get(&id).unwrap().timeline.len(), 2);
}

#[test]
fn a_batch_is_one_transaction_each_decided_on_the_ones_before() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents.jsonl");
    let mut a = Book::open(&path, NEVER).unwrap();
    let mut blank = obs("x", true, "2026-12-07T10:00:00Z");
    blank.fingerprint = " ".into();
    let batch = [
        obs("disk", true, "2026-12-07T10:00:00Z"),
        obs("load", true, "2026-12-07T10:00:00Z"),
        // The same key again in the batch: seen, nothing new.
        obs("disk", true, "2026-12-07T10:00:00Z"),
        blank,
        // Cleared later in the same batch: resolves what the first line opened.
        obs("load", false, "2026-12-07T10:00:05Z"),
    ];
    let results = a.observe_all(&batch);
    assert_eq!(results.len(), 5);
    assert!(matches!(results[0], Ok(Some(_))));
    assert!(matches!(results[1], Ok(Some(_))));
    assert!(matches!(results[2], Ok(None)), "{:?}", results[2]);
    assert!(matches!(results[3], Err(BookError::Invalid(_))));
    assert!(matches!(results[4], Ok(Some(_))));
    let disk = results[0].as_ref().unwrap().as_ref().unwrap().id.clone();
    let load = results[1].as_ref().unwrap().as_ref().unwrap().id.clone();
    assert_ne!(disk, load);
    // Another process reads the same.
    let b = Book::open(&path, NEVER).unwrap();
    assert_eq!(b.get(&disk).unwrap().state, State::Open);
    assert_eq!(b.get(&load).unwrap().state, State::Resolved);
    assert_eq!(a.get(&load).unwrap().state, State::Resolved);
    assert_eq!(b.events_read(), 3);
}
