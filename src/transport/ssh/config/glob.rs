//! Host pattern matching and `Include` globbing, as OpenSSH does them. Shared with the
//! `~/.ssh/config` importer and the known_hosts reader.

use std::fs;
use std::path::{Component, Path, PathBuf};

use globset::GlobBuilder;

/// OpenSSH `match_pattern`: `*` any run, `?` any one character; case-sensitive.
pub(crate) fn wildmatch(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Expands a glob per path component (`*`, `?`, `[…]`; hidden files only when the component
/// starts with `.`), results sorted, as OpenSSH's `Include` does. A pattern without wildcards
/// yields the path if it exists.
pub(crate) fn glob_paths(pattern: &Path) -> Result<Vec<PathBuf>, String> {
    let mut current = vec![PathBuf::new()];
    for comp in pattern.components() {
        let Component::Normal(part) = comp else {
            for p in &mut current {
                p.push(comp);
            }
            continue;
        };
        let Some(part_str) = part.to_str().filter(|s| s.contains(['*', '?', '['])) else {
            for p in &mut current {
                p.push(part);
            }
            continue;
        };
        let matcher = GlobBuilder::new(part_str)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("bad Include pattern `{part_str}`: {e}"))?
            .compile_matcher();
        let mut next = Vec::new();
        for dir in &current {
            let listing = if dir.as_os_str().is_empty() {
                fs::read_dir(".")
            } else {
                fs::read_dir(dir)
            };
            // Unreadable or missing directories simply match nothing, as with glob(3).
            let Ok(listing) = listing else { continue };
            for entry in listing.flatten() {
                let name = entry.file_name();
                let Some(name_str) = name.to_str() else {
                    continue;
                };
                if name_str.starts_with('.') && !part_str.starts_with('.') {
                    continue;
                }
                if matcher.is_match(name_str) {
                    next.push(dir.join(name_str));
                }
            }
        }
        current = next;
    }
    current.retain(|p| p.exists());
    current.sort();
    Ok(current)
}
