//! Size-based rotation: `name.jsonl` → `name.1.jsonl` → `name.2.jsonl` …

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::StoreError;

/// When a file rotates and how many rotated files are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// An append that would take the file past this many bytes rotates it first. A record
    /// larger than this still goes into a fresh (empty) file rather than being refused.
    pub max_bytes: u64,
    /// How many rotated files (`name.1.jsonl` … `name.{keep}.jsonl`) are kept; the oldest
    /// beyond that is deleted. `0` keeps none (the full file is simply discarded).
    pub keep: usize,
}

impl Rotation {
    /// Never rotate.
    pub const NEVER: Rotation = Rotation {
        max_bytes: u64::MAX,
        keep: 0,
    };

    /// Whether a file of `size` bytes must rotate before `line_len` more bytes are appended.
    pub(crate) fn needs_rotation(&self, size: u64, line_len: usize) -> bool {
        size > 0 && size.saturating_add(line_len as u64) > self.max_bytes
    }
}

/// The `n`-th rotated file of `path`: `dir/history.jsonl` → `dir/history.{n}.jsonl`; a name
/// without an extension gets the number appended (`dir/log` → `dir/log.{n}`). `n == 0` is
/// `path` itself.
pub fn rotated_path(path: &Path, n: usize) -> PathBuf {
    if n == 0 {
        return path.to_path_buf();
    }
    let (Some(stem), Some(ext)) = (path.file_stem(), path.extension()) else {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        return PathBuf::from(name);
    };
    let mut name = stem.to_owned();
    name.push(format!(".{n}."));
    name.push(ext);
    path.with_file_name(name)
}

/// Rotated files a reader of a whole chain looks for (far above any sane `keep`).
pub const MAX_ROTATED_FILES: usize = 1000;

/// The rotated files of `path` that exist, oldest first (up to the first gap), then `path`
/// itself, which may not exist: the order its records were written in.
pub fn chain_oldest_first(path: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = (1..=MAX_ROTATED_FILES)
        .map(|n| rotated_path(path, n))
        .take_while(|p| p.exists())
        .collect();
    files.reverse();
    files.push(path.to_path_buf());
    files
}

/// Shifts `path` into the rotated files, dropping the oldest. The caller holds the exclusive
/// lock. Missing files in the chain are fine (skipped).
pub(crate) fn rotate_files(path: &Path, keep: usize) -> Result<(), StoreError> {
    if keep == 0 {
        return remove_if_exists(path);
    }
    remove_if_exists(&rotated_path(path, keep))?;
    for n in (0..keep).rev() {
        let from = rotated_path(path, n);
        let to = rotated_path(path, n + 1);
        match fs::rename(&from, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io(&from, "rotate (rename)", e)),
        }
    }
    Ok(())
}

fn remove_if_exists(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io(path, "rotate (remove oldest)", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_names() {
        let p = Path::new("/d/history.jsonl");
        assert_eq!(rotated_path(p, 0), p);
        assert_eq!(rotated_path(p, 1), Path::new("/d/history.1.jsonl"));
        assert_eq!(rotated_path(p, 12), Path::new("/d/history.12.jsonl"));
        assert_eq!(rotated_path(Path::new("log"), 2), Path::new("log.2"));
        assert_eq!(
            rotated_path(Path::new("runs/a.b.jsonl"), 1),
            Path::new("runs/a.b.1.jsonl")
        );
    }

    #[test]
    fn needs_rotation_only_when_non_empty() {
        let r = Rotation {
            max_bytes: 10,
            keep: 1,
        };
        assert!(!r.needs_rotation(0, 100));
        assert!(!r.needs_rotation(5, 5));
        assert!(r.needs_rotation(5, 6));
        assert!(!Rotation::NEVER.needs_rotation(u64::MAX - 1, 10));
    }

    #[test]
    fn shifts_and_drops_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.jsonl");
        for (n, body) in ["cur", "one", "two"].iter().enumerate() {
            fs::write(rotated_path(&p, n), body).unwrap();
        }
        rotate_files(&p, 2).unwrap();
        assert!(!p.exists());
        assert_eq!(fs::read_to_string(rotated_path(&p, 1)).unwrap(), "cur");
        assert_eq!(fs::read_to_string(rotated_path(&p, 2)).unwrap(), "one");
        assert!(!rotated_path(&p, 3).exists());
        fs::write(&p, "x").unwrap();
        rotate_files(&p, 0).unwrap();
        assert!(!p.exists());
    }

    #[test]
    fn the_chain_is_oldest_first_and_ends_with_the_current_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.jsonl");
        assert_eq!(chain_oldest_first(&p), std::slice::from_ref(&p));
        for n in [1, 2, 4] {
            fs::write(rotated_path(&p, n), "x").unwrap();
        }
        // history.3 is missing: rotation never leaves a gap, so nothing past it is read.
        assert_eq!(
            chain_oldest_first(&p),
            [rotated_path(&p, 2), rotated_path(&p, 1), p.clone()]
        );
    }
}
