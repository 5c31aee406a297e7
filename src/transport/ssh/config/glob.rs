//! `Include` globbing as glob(3) does it. Copied from the importer's private
//! `inventory/import/ssh_config/glob.rs`.

use std::fs;
use std::path::{Component, Path, PathBuf};

use globset::GlobBuilder;

/// Expands a glob per path component (`*`, `?`, `[…]`; hidden files only when the component
/// starts with `.`), results sorted, as OpenSSH's `Include` does. A pattern without wildcards
/// yields the path if it exists.
pub(super) fn glob_paths(pattern: &Path) -> Result<Vec<PathBuf>, String> {
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
