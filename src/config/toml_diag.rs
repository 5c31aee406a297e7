//! Parsing TOML into typed config with errors that name file:line:column and suggest fixes.

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;
use serde::de::DeserializeOwned;

use crate::diag::{Diagnostic, did_you_mean};

/// Parses `src` (the text of `path`) into `T`; on error, one diagnostic at the offending place.
pub fn parse_toml<T: DeserializeOwned>(path: &Path, src: &str) -> Result<T, Diagnostic> {
    toml::from_str::<T>(src).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        Diagnostic::at_offset(path, src, offset, humanize(e.message()))
    })
}

/// Rewrites serde's messages into ones that say what to do: unknown keys and values get a
/// "did you mean" from the list serde gives.
pub fn humanize(message: &str) -> String {
    static UNKNOWN: OnceLock<Option<Regex>> = OnceLock::new();
    let re = UNKNOWN.get_or_init(|| {
        Regex::new(r"^unknown (field|variant) `([^`]*)`, expected (?:one of )?(.*)$").ok()
    });
    let message = message.trim();
    let Some(caps) = re.as_ref().and_then(|re| re.captures(message)) else {
        return message.to_string();
    };
    let kind = if &caps[1] == "field" { "key" } else { "value" };
    let word = &caps[2];
    let expected: Vec<&str> = caps[3]
        .split(", ")
        .flat_map(|s| s.split(" or "))
        .map(|s| s.trim().trim_start_matches("or ").trim_matches('`'))
        .filter(|s| !s.is_empty())
        .collect();
    let listed = expected
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match did_you_mean(word, expected.iter().copied()) {
        Some(best) => {
            format!("unknown {kind} `{word}`: did you mean `{best}`? (expected one of {listed})")
        }
        None => format!("unknown {kind} `{word}` (expected one of {listed})"),
    }
}

/// `*.toml` files of a folder, sorted; a missing folder has none, an unreadable one is a
/// problem (themes, keymaps and actions folders alike).
pub fn toml_files(dir: &Path, problems: &mut Vec<Diagnostic>) -> Vec<std::path::PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            problems.push(Diagnostic::whole_file(
                dir,
                format!("cannot list folder: {e}"),
            ));
            return Vec::new();
        }
    };
    let mut files: Vec<std::path::PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_gets_suggestion() {
        let m = humanize("unknown field `fanuot`, expected one of `fanout`, `connect_timeout`");
        assert_eq!(
            m,
            "unknown key `fanuot`: did you mean `fanout`? (expected one of `fanout`, `connect_timeout`)"
        );
    }

    #[test]
    fn unknown_variant_without_near_miss() {
        let m = humanize("unknown variant `telnet`, expected one of `ssh`, `agent`, `local`");
        assert_eq!(
            m,
            "unknown value `telnet` (expected one of `ssh`, `agent`, `local`)"
        );
    }

    #[test]
    fn two_choices_use_or() {
        let m = humanize("unknown variant `tru`, expected `true` or `false`");
        assert!(m.contains("did you mean `true`"), "{m}");
    }
}
