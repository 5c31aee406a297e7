//! `file_validation`: exists, readable, size, age and SHA-256 of one file. The hash streams
//! the file in chunks (never read whole) and stops early when the job is cancelled.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use super::checks::check;
use crate::protocol::CheckResult;

/// The checks a `file_validation` asks for.
#[derive(Debug, Clone, Default)]
pub struct FileChecks {
    pub exists: Option<bool>,
    pub readable: Option<bool>,
    pub size_gt_mb: Option<f64>,
    pub modified_within_s: Option<u64>,
    pub sha256: Option<String>,
}

const CHUNK: usize = 64 * 1024;
const MB: f64 = 1_000_000.0;

/// Runs the checks on `path` (already resolved and allowed). `None` when cancelled.
/// With no checks asked for, the file must exist.
pub fn run(
    path: &Path,
    wanted: &FileChecks,
    cancel: &CancellationToken,
) -> Option<Vec<CheckResult>> {
    let mut wanted = wanted.clone();
    let nothing_asked = wanted.exists.is_none()
        && wanted.readable.is_none()
        && wanted.size_gt_mb.is_none()
        && wanted.modified_within_s.is_none()
        && wanted.sha256.is_none();
    if nothing_asked {
        wanted.exists = Some(true);
    }
    let shown = path.display();
    let meta = std::fs::metadata(path);
    let mut out = Vec::new();
    if let Some(want) = wanted.exists {
        let exists = meta.is_ok();
        let detail = if exists {
            format!("{shown} exists")
        } else {
            format!("{shown} does not exist")
        };
        out.push(check("exists", exists == want, detail));
    }
    if let Some(want) = wanted.readable {
        let (readable, detail) = match std::fs::File::open(path) {
            Ok(_) => (true, format!("{shown} is readable")),
            Err(e) => (false, format!("{shown} is not readable: {e}")),
        };
        out.push(check("readable", readable == want, detail));
    }
    if let Some(limit) = wanted.size_gt_mb {
        out.push(match &meta {
            Ok(m) => {
                let mb = m.len() as f64 / MB;
                check(
                    "size_gt_mb",
                    mb > limit,
                    format!("size {mb:.1} MB (want > {limit} MB)"),
                )
            }
            Err(e) => check("size_gt_mb", false, format!("{shown}: {e}")),
        });
    }
    if let Some(within) = wanted.modified_within_s {
        out.push(match meta.as_ref().map(std::fs::Metadata::modified) {
            Ok(Ok(mtime)) => {
                let age = SystemTime::now()
                    .duration_since(mtime)
                    .unwrap_or(Duration::ZERO);
                check(
                    "modified_within_s",
                    age.as_secs() <= within,
                    format!("modified {} s ago (want within {within} s)", age.as_secs()),
                )
            }
            Ok(Err(e)) => check("modified_within_s", false, format!("{shown}: {e}")),
            Err(e) => check("modified_within_s", false, format!("{shown}: {e}")),
        });
    }
    if let Some(expected) = &wanted.sha256 {
        let expected = expected.trim().to_ascii_lowercase();
        out.push(match sha256_file(path, cancel) {
            Ok(Some(actual)) => {
                let ok = actual == expected;
                let detail = if ok {
                    format!("sha256 {actual}")
                } else {
                    format!("sha256 {actual} (want {expected})")
                };
                check("sha256", ok, detail)
            }
            Ok(None) => return None,
            Err(e) => check("sha256", false, format!("{shown}: {e}")),
        });
    }
    if cancel.is_cancelled() {
        None
    } else {
        Some(out)
    }
}

/// Hex SHA-256 of a file, read in chunks; `Ok(None)` when cancelled part way.
fn sha256_file(path: &Path, cancel: &CancellationToken) -> std::io::Result<Option<String>> {
    let mut file = std::fs::File::open(path)?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; CHUNK];
    loop {
        if cancel.is_cancelled() {
            return Ok(None);
        }
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    Ok(Some(
        ctx.finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_pass_and_fail_with_details() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.txt");
        std::fs::write(&f, b"abc").unwrap();
        let cancel = CancellationToken::new();
        let wanted = FileChecks {
            exists: Some(true),
            readable: Some(true),
            size_gt_mb: Some(1.0),
            modified_within_s: Some(3600),
            sha256: Some("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD".into()),
        };
        let r = run(&f, &wanted, &cancel).unwrap();
        let ok: Vec<(&str, bool)> = r.iter().map(|c| (c.check.as_str(), c.ok)).collect();
        assert_eq!(
            ok,
            [
                ("exists", true),
                ("readable", true),
                ("size_gt_mb", false),
                ("modified_within_s", true),
                ("sha256", true)
            ]
        );
        let missing = run(&dir.path().join("nope"), &FileChecks::default(), &cancel).unwrap();
        assert!(!missing[0].ok && missing[0].detail.contains("does not exist"));
        cancel.cancel();
        assert!(run(&f, &wanted, &cancel).is_none());
    }
}
