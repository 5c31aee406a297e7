//! The append-only JSONL writer.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::StoreError;
use super::line::encode_line;
use super::lock::LockFile;
use super::rotate::{Rotation, rotate_files};

/// Appends records to one JSONL file, one line per record, rotating it by size.
///
/// Several writers (threads with their own `JsonlWriter`, or processes) may append to the same
/// file: every line goes out in a single `write` on an `O_APPEND` descriptor, so lines never
/// interleave, and rotation is serialized through an `flock` on `name.jsonl.lock` (appends hold
/// it shared, rotation exclusive), so no append lands in a file being rotated away.
#[derive(Debug)]
pub struct JsonlWriter {
    path: PathBuf,
    file: File,
    lock: LockFile,
    rotation: Rotation,
    version: u32,
}

impl JsonlWriter {
    /// Opens `path` for appending, creating it (mode 0600) and any missing parent folders
    /// (mode 0700). `version` is the schema version written as `"v"` in every record
    /// (usually [`SCHEMA_VERSION`](super::SCHEMA_VERSION)).
    pub fn open(path: &Path, rotation: Rotation, version: u32) -> Result<JsonlWriter, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(|e| StoreError::io(parent, "create folder", e))?;
        }
        let lock = LockFile::create_for(path)?;
        let file = open_append(path)?;
        Ok(JsonlWriter {
            path: path.to_path_buf(),
            file,
            lock,
            rotation,
            version,
        })
    }

    /// Appends `record`, which must serialize to a JSON object, as one line with `"v"` and
    /// `"ts"` (now, unless the record has its own `"ts"`) as its first two keys. Rotates first
    /// if the line would take the file past `rotation.max_bytes`.
    ///
    /// If the file ends in a torn line (a writer crashed mid-write), the line written starts
    /// with a `\n` that closes the fragment off, so the new record keeps a line of its own;
    /// readers then report the fragment as a corrupt line rather than a torn tail. (Should
    /// that check race with another append in flight, the cost is one harmless blank line.)
    pub fn append<T: Serialize + ?Sized>(&mut self, record: &T) -> Result<(), StoreError> {
        let line = encode_line(&self.path, self.version, record)?;
        let mut rotated = false;
        loop {
            let shared = self.lock.shared()?;
            let size = reopen_if_replaced(&self.path, &mut self.file)?;
            // Rotate at most once per append: should other writers fill the fresh file
            // before we get to write, the line goes in anyway.
            if rotated || !self.rotation.needs_rotation(size, line.len()) {
                let written = if ends_torn(&self.path, &self.file, size)? {
                    let mut closed = Vec::with_capacity(line.len() + 1);
                    closed.push(b'\n');
                    closed.extend_from_slice(&line);
                    write_line(&self.file, &closed)
                } else {
                    write_line(&self.file, &line)
                };
                drop(shared);
                return written.map_err(|e| StoreError::io(&self.path, "append", e));
            }
            drop(shared);
            self.rotate(line.len())?;
            rotated = true;
        }
    }

    /// Flushes appended records to the disk (`fdatasync`). Appends do not do this themselves.
    pub fn sync(&self) -> Result<(), StoreError> {
        self.file
            .sync_data()
            .map_err(|e| StoreError::io(&self.path, "sync", e))
    }

    /// The file appended to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version written as `"v"`.
    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn rotation(&self) -> Rotation {
        self.rotation
    }

    /// Rotates under the exclusive lock, unless another writer already did (size re-checked),
    /// then opens the (new) current file.
    fn rotate(&mut self, line_len: usize) -> Result<(), StoreError> {
        let _exclusive = self.lock.exclusive()?;
        let size = match fs::metadata(&self.path) {
            Ok(meta) => meta.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(StoreError::io(&self.path, "stat", e)),
        };
        if self.rotation.needs_rotation(size, line_len) {
            rotate_files(&self.path, self.rotation.keep)?;
        }
        self.file = open_append(&self.path)?;
        Ok(())
    }
}

fn open_append(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| StoreError::io(path, "open for append", e))
}

/// Makes sure `file` is the file now at `path` (another writer may have rotated it away, or
/// someone deleted it), reopening if not. Returns its size.
fn reopen_if_replaced(path: &Path, file: &mut File) -> Result<u64, StoreError> {
    let ours = file
        .metadata()
        .map_err(|e| StoreError::io(path, "stat", e))?;
    match fs::metadata(path) {
        Ok(now) if now.dev() == ours.dev() && now.ino() == ours.ino() => return Ok(ours.len()),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(StoreError::io(path, "stat", e)),
    }
    *file = open_append(path)?;
    file.metadata()
        .map(|m| m.len())
        .map_err(|e| StoreError::io(path, "stat", e))
}

/// Whether the file (of `size` bytes) ends in something other than `\n`.
fn ends_torn(path: &Path, file: &File, size: u64) -> Result<bool, StoreError> {
    if size == 0 {
        return Ok(false);
    }
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, size - 1)
        .map_err(|e| StoreError::io(path, "read last byte", e))?;
    Ok(last[0] != b'\n')
}

/// The whole line in one `write`. Should the kernel take only part of it (disk full, a
/// signal), the rest follows at once, so the file still ends in whole lines where possible.
fn write_line(mut file: &File, line: &[u8]) -> io::Result<()> {
    let written = loop {
        match file.write(line) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    if written < line.len() {
        file.write_all(&line[written..])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{SCHEMA_VERSION, read_all, rotated_path};
    use serde_json::{Value, json};
    use std::collections::HashSet;
    use std::os::unix::fs::PermissionsExt;

    fn writer(path: &Path, max_bytes: u64, keep: usize) -> JsonlWriter {
        JsonlWriter::open(path, Rotation { max_bytes, keep }, SCHEMA_VERSION).unwrap()
    }

    #[test]
    fn append_then_read_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let mut w = writer(&path, u64::MAX, 3);
        #[derive(Serialize)]
        struct Run<'a> {
            id: &'a str,
            targets: Vec<&'a str>,
            exit: i32,
        }
        w.append(&Run {
            id: "r1",
            targets: vec!["web01", "web02"],
            exit: 0,
        })
        .unwrap();
        w.append(&json!({"id": "r2", "out": "line1\nline2"}))
            .unwrap();
        let report = read_all(&path).unwrap();
        assert!(report.corrupt.is_empty() && !report.torn_tail);
        let lines: Vec<u64> = report.records.iter().map(|(n, _)| *n).collect();
        assert_eq!(lines, [1, 2]);
        assert_eq!(report.records[0].1["targets"], json!(["web01", "web02"]));
        assert_eq!(report.records[1].1["out"], "line1\nline2");
        assert_eq!(report.records[1].1["v"], 1);
    }

    #[test]
    fn v_and_ts_are_the_first_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let mut w = JsonlWriter::open(&path, Rotation::NEVER, 7).unwrap();
        w.append(&json!({"a": 1, "user": "ops"})).unwrap();
        w.append(&json!({"ts": "2020-01-01T00:00:00.000Z", "b": 2}))
            .unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("{\"v\":7,\"ts\":\"20"), "{}", lines[0]);
        let ts: Value = serde_json::from_str(lines[0]).unwrap();
        let ts = ts["ts"].as_str().unwrap().to_owned();
        assert!(ts.ends_with('Z') && ts.len() == 24, "{ts}");
        assert_eq!(
            lines[1],
            "{\"v\":7,\"ts\":\"2020-01-01T00:00:00.000Z\",\"b\":2}"
        );
    }

    #[test]
    fn non_object_records_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let mut w = writer(&path, u64::MAX, 0);
        let err = w.append(&vec![1, 2]).unwrap_err();
        assert!(matches!(err, StoreError::NotAnObject { .. }));
        assert!(err.to_string().contains("h.jsonl"), "{err}");
        assert_eq!(fs::metadata(&path).unwrap().len(), 0);
    }

    #[test]
    fn new_files_are_0600_and_new_folders_0700() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/runs/r1.jsonl");
        let mut w = writer(&path, u64::MAX, 0);
        w.append(&json!({"a": 1})).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("data/runs/r1.jsonl.lock")), 0o600);
        assert_eq!(mode(&dir.path().join("data/runs")), 0o700);
        assert_eq!(mode(&dir.path().join("data")), 0o700);
    }

    #[test]
    fn rotates_at_max_bytes_keeping_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let record = |i: usize| json!({"ts": "2026-01-01T00:00:00.000Z", "i": format!("{i:03}")});
        // Every line is the same length; three fit in max_bytes.
        let line_len = encode_line(&path, 1, &record(0)).unwrap().len() as u64;
        let mut w = writer(&path, line_len * 3, 2);
        for i in 0..14 {
            w.append(&record(i)).unwrap();
        }
        let ids = |p: &Path| -> Vec<String> {
            read_all(p)
                .unwrap()
                .records
                .into_iter()
                .map(|(_, v)| v["i"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(ids(&path), ["012", "013"]);
        assert_eq!(ids(&rotated_path(&path, 1)), ["009", "010", "011"]);
        assert_eq!(ids(&rotated_path(&path, 2)), ["006", "007", "008"]);
        assert!(!rotated_path(&path, 3).exists());
        for n in 0..3 {
            assert!(fs::metadata(rotated_path(&path, n)).unwrap().len() <= line_len * 3);
        }
    }

    #[test]
    fn a_record_larger_than_max_bytes_gets_a_file_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let mut w = writer(&path, 10, 5);
        for i in 0..3 {
            w.append(&json!({"i": i})).unwrap();
        }
        assert_eq!(read_all(&path).unwrap().records.len(), 1);
        assert_eq!(
            read_all(&rotated_path(&path, 2)).unwrap().records[0].1["i"],
            0
        );
    }

    #[test]
    fn appending_after_a_crash_closes_the_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        fs::write(
            &path,
            "{\"v\":1,\"ts\":\"x\",\"a\":1}\n{\"v\":1,\"ts\":\"x\",\"a\"",
        )
        .unwrap();
        assert!(read_all(&path).unwrap().torn_tail);
        let mut w = writer(&path, u64::MAX, 0);
        w.append(&json!({"a": 3})).unwrap();
        let report = read_all(&path).unwrap();
        assert!(!report.torn_tail);
        assert_eq!(report.corrupt.len(), 1);
        assert_eq!(report.corrupt[0].line, 2);
        assert_eq!(report.records.len(), 2);
        assert_eq!(report.records[1].0, 3);
        assert_eq!(report.records[1].1["a"], 3);
        // An intact file gets no extra newline.
        w.append(&json!({"a": 4})).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 4);
        assert!(!text.contains("\n\n"));
    }

    #[test]
    fn a_long_lived_writer_survives_another_writer_crashing_mid_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let mut w = writer(&path, u64::MAX, 0);
        w.append(&json!({"a": 1})).unwrap();
        // Another process dies halfway through its write.
        let mut other = OpenOptions::new().append(true).open(&path).unwrap();
        other.write_all(b"{\"v\":1,\"ts\":\"20").unwrap();
        assert!(read_all(&path).unwrap().torn_tail);
        w.append(&json!({"a": 3})).unwrap();
        let report = read_all(&path).unwrap();
        assert!(!report.torn_tail);
        assert_eq!(report.corrupt.len(), 1);
        assert_eq!(report.corrupt[0].line, 2);
        let got: Vec<(u64, Value)> = report
            .records
            .into_iter()
            .map(|(l, v)| (l, v["a"].clone()))
            .collect();
        assert_eq!(got, [(1, json!(1)), (3, json!(3))]);
    }

    #[test]
    fn a_writer_follows_rotation_done_by_another_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let mut a = writer(&path, 200, 5);
        let mut b = writer(&path, 200, 5);
        for i in 0..40 {
            a.append(&json!({"w": "a", "i": i})).unwrap();
            b.append(&json!({"w": "b", "i": i})).unwrap();
        }
        // Oldest first across files: a0 b0 a1 b1 …, nothing lost, no file over the limit.
        let mut seen = Vec::new();
        for n in (0..=5).rev() {
            let p = rotated_path(&path, n);
            if p.exists() {
                assert!(fs::metadata(&p).unwrap().len() <= 200);
                for (_, v) in read_all(&p).unwrap().records {
                    seen.push((
                        v["w"].as_str().unwrap().to_owned(),
                        v["i"].as_u64().unwrap(),
                    ));
                }
            }
        }
        let tail: Vec<(String, u64)> = (0..40u64)
            .flat_map(|i| [("a".to_owned(), i), ("b".to_owned(), i)])
            .skip(80 - seen.len())
            .collect();
        assert_eq!(seen, tail);
    }

    #[test]
    fn concurrent_appenders_write_only_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let threads = 4;
        let per_thread = 500;
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    // Small files so that rotation races with appends, enough files to keep all.
                    let mut w = writer(&path, 16 * 1024, 1000);
                    let pad = "x".repeat(100 + t * 37);
                    for i in 0..per_thread {
                        w.append(&json!({"t": t, "i": i, "pad": pad})).unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let mut seen = HashSet::new();
        for n in 0..1000 {
            let p = rotated_path(&path, n);
            if !p.exists() {
                continue;
            }
            let bytes = fs::read(&p).unwrap();
            assert!(bytes.is_empty() || bytes.ends_with(b"\n"));
            let report = read_all(&p).unwrap();
            assert!(report.corrupt.is_empty(), "{:?}", report.corrupt);
            assert!(!report.torn_tail);
            for (_, v) in report.records {
                let key = (v["t"].as_u64().unwrap(), v["i"].as_u64().unwrap());
                assert!(seen.insert(key), "duplicate {key:?}");
            }
        }
        assert_eq!(seen.len(), threads * per_thread);
    }
}
