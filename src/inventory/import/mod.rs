//! Importers that turn other inventories into hosts.toml text.
//!
//! Each importer reads one file (and what it includes) and returns an [`Imported`]: an
//! [`InventoryFile`] the CLI prints with [`InventoryFile::to_toml`], plus warnings about what
//! could not be carried over. Errors name the file and, where known, `line:column`.

mod ansible;
mod ssh_config;

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Error};
use crate::inventory::file::InventoryFile;

pub use ansible::from_ansible;
pub use ssh_config::from_ssh_config;

/// What an importer produced.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub inventory: InventoryFile,
    /// Things skipped or not carried over (wildcard patterns, ignored variables…), one line
    /// each, prefixed with `file:line:column:` where a place is known.
    pub warnings: Vec<String>,
}

/// Why an import failed. Displayed as `path:line:col: message` where a place is known.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file (or one it includes) could not be read.
    #[error("{}: {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The file is malformed at a known place (1-based line and column, in characters).
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// The file is unusable as a whole, or at a place that could not be pinned down.
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

impl ImportError {
    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }

    pub(crate) fn syntax(
        path: &Path,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        Self::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. } | Self::Syntax { path, .. } | Self::Invalid { path, .. } => path,
        }
    }

    /// `(line, column)` when the error points at a place in the file.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            Self::Syntax { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }
}

/// Lets the CLI turn an import failure into its usual error (exit code 2).
impl From<ImportError> for Error {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Io {
                path,
                action,
                source,
            } => Error::Io {
                path,
                action,
                source,
            },
            ImportError::Syntax {
                path,
                line,
                column,
                message,
            } => Error::Config(vec![Diagnostic {
                file: path,
                line,
                column,
                message,
            }]),
            e @ ImportError::Invalid { .. } => Error::Invalid(e.to_string()),
        }
    }
}

/// Whether `name` can be written as a `[[hosts]]` name as it is: fleetdeck reads names as node
/// sets and selectors, so brackets, commas, globs and the like would change its meaning.
pub(crate) fn is_plain_host_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with(['-', '.']) && name.chars().all(is_name_char)
}

/// A character of a plain host name (see [`is_plain_host_name`]).
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':')
}

/// 1-based column of byte offset `offset` in `line`, counted in characters.
pub(crate) fn column_of(line: &str, offset: usize) -> usize {
    let mut offset = offset.min(line.len());
    while !line.is_char_boundary(offset) {
        offset -= 1;
    }
    line[..offset].chars().count() + 1
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;

    use crate::inventory::file::{HostEntry, InventoryFile};

    /// `tests/fixtures/import/<rel>`.
    pub fn fixture(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/import")
            .join(rel)
    }

    pub fn host<'a>(inv: &'a InventoryFile, name: &str) -> &'a HostEntry {
        inv.hosts
            .iter()
            .find(|h| h.name.get_ref() == name)
            .unwrap_or_else(|| panic!("no host {name} in {:?}", names(inv)))
    }

    pub fn names(inv: &InventoryFile) -> Vec<&str> {
        inv.hosts
            .iter()
            .map(|h| h.name.get_ref().as_str())
            .collect()
    }

    pub fn address(h: &HostEntry) -> Option<&str> {
        h.address.as_ref().map(|a| a.get_ref().as_str())
    }

    /// The printed TOML parses back into the same hosts.
    pub fn assert_round_trips(inv: &InventoryFile) {
        let text = inv.to_toml().expect("serialize");
        let back: InventoryFile = toml::from_str(&text).expect("printed TOML parses back");
        assert_eq!(names(&back), names(inv), "{text}");
        for (a, b) in inv.hosts.iter().zip(&back.hosts) {
            assert_eq!(address(a), address(b));
            assert_eq!(a.port, b.port);
            assert_eq!(a.user, b.user);
            assert_eq!(a.groups, b.groups);
            assert_eq!(a.vars, b.vars);
            assert_eq!(a.jump, b.jump);
            assert_eq!(a.transport, b.transport);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_render_with_place() {
        let e = ImportError::syntax(Path::new("inv.ini"), 3, 7, "bad range");
        assert_eq!(e.to_string(), "inv.ini:3:7: bad range");
        assert_eq!(e.position(), Some((3, 7)));
        let e = ImportError::invalid(Path::new("inv.yml"), "not an inventory");
        assert_eq!(e.to_string(), "inv.yml: not an inventory");
        let cli: Error = ImportError::syntax(Path::new("c"), 1, 2, "x").into();
        assert_eq!(cli.exit_code(), 2);
        assert_eq!(cli.to_string(), "c:1:2: x");
    }

    #[test]
    fn plain_names() {
        for ok in [
            "web01",
            "db-1.example.com",
            "10.0.0.1",
            "2001:db8::1",
            "a_b",
        ] {
            assert!(is_plain_host_name(ok), "{ok}");
        }
        for bad in ["", "web[01-02]", "a,b", "web*", "a b", "-x", "ümlaut", "@g"] {
            assert!(!is_plain_host_name(bad), "{bad}");
        }
    }
}
