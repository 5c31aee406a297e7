//! Reading a keymap file into sections of bindings, keeping where each key and action was
//! written so every problem can be reported at file:line:column.

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::action::Action;
use super::context::Context;
use super::key::parse_sequence;
use super::map::Binding;
use crate::config::toml_diag::humanize;
use crate::diag::{Diagnostic, did_you_mean};

/// The value that removes a binding instead of making one.
pub const DISABLED: &str = "<disabled>";

/// How a warning's message starts, as compilers print them (`file:1:2: warning: …`).
pub const WARNING_PREFIX: &str = "warning: ";

/// Warnings are worth fixing but do not stop a keymap from loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    pub diagnostic: Diagnostic,
}

/// One `"keys" = "action"` line as written.
#[derive(Debug, Clone)]
pub struct Entry {
    pub binding: Binding,
    /// The keys as written, for messages.
    pub text: String,
    pub key_span: Range<usize>,
}

/// A keymap file: its sections in file order, and what was wrong with it.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub sections: Vec<(Context, Vec<Entry>)>,
    pub findings: Vec<Finding>,
}

impl ParsedFile {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The bindings of each context, indexed like `Context::ALL`.
    pub fn into_bindings(self) -> Vec<Vec<Binding>> {
        let mut out = vec![Vec::new(); Context::ALL.len()];
        for (context, entries) in self.sections {
            out[context.index()].extend(entries.into_iter().map(|e| e.binding));
        }
        out
    }
}

/// Parses `src`, the text of `path`. Entries with a bad key or an unknown action are left out
/// and reported; the rest are kept so one typo does not hide every other problem.
pub fn parse_file(path: &Path, src: &str) -> ParsedFile {
    let mut parsed = ParsedFile::default();
    let root = match DeTable::parse(src) {
        Ok(root) => root.into_inner(),
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            parsed
                .findings
                .push(error(path, src, offset, humanize(e.message())));
            return parsed;
        }
    };
    let mut tables: Vec<_> = root.iter().collect();
    tables.sort_by_key(|(name, _)| name.span().start);
    for (name, value) in tables {
        let Some(context) = Context::from_name(name.get_ref()) else {
            let names = Context::ALL.map(Context::name);
            let hint = match did_you_mean(name.get_ref(), names) {
                Some(best) => format!(": did you mean `[{best}]`?"),
                None => String::new(),
            };
            parsed.findings.push(error(
                path,
                src,
                name.span().start,
                format!(
                    "unknown context `{}`{hint} (expected one of {})",
                    name.get_ref(),
                    names.map(|n| format!("`{n}`")).join(", ")
                ),
            ));
            continue;
        };
        let DeValue::Table(table) = value.get_ref() else {
            parsed.findings.push(error(
                path,
                src,
                name.span().start,
                format!(
                    "`{0}` must be a section of bindings: write `[{0}]` and then lines like `\"j\" = \"move_down\"`",
                    context.name()
                ),
            ));
            continue;
        };
        let mut entries = Vec::new();
        let mut lines: Vec<_> = table.iter().collect();
        lines.sort_by_key(|(keys, _)| keys.span().start);
        for (keys, action) in lines {
            let binding = parse_entry(path, src, keys, action, &mut parsed.findings);
            if let Some(binding) = binding {
                entries.push(Entry {
                    binding,
                    text: keys.get_ref().to_string(),
                    key_span: keys.span(),
                });
            }
        }
        parsed.sections.push((context, entries));
    }
    parsed
}

fn parse_entry(
    path: &Path,
    src: &str,
    keys: &toml::Spanned<toml::de::DeString<'_>>,
    value: &toml::Spanned<DeValue<'_>>,
    findings: &mut Vec<Finding>,
) -> Option<Binding> {
    let parsed_keys = parse_sequence(keys.get_ref())
        .map_err(|message| findings.push(error(path, src, keys.span().start, message)))
        .ok();
    let action = match value.get_ref() {
        DeValue::String(name) if name == DISABLED => Some(None),
        DeValue::String(name) => match Action::from_name(name) {
            Some(action) => Some(Some(action)),
            None => {
                findings.push(error(path, src, value.span().start, unknown_action(name)));
                None
            }
        },
        DeValue::Table(_) => {
            findings.push(error(
                path,
                src,
                value.span().start,
                format!(
                    "write chords on one line with spaces between the keys, like `\"{} g\" = \"top\"`, not as a nested table",
                    keys.get_ref()
                ),
            ));
            None
        }
        other => {
            findings.push(error(
                path,
                src,
                value.span().start,
                format!(
                    "expected an action name in quotes (like \"move_down\") or \"{DISABLED}\", found {}",
                    other.type_str()
                ),
            ));
            None
        }
    };
    Some(Binding {
        keys: parsed_keys?,
        action: action?,
    })
}

fn unknown_action(name: &str) -> String {
    match did_you_mean(name, Action::ALL.map(Action::name)) {
        Some(best) => format!("unknown action `{name}`: did you mean `{best}`?"),
        None => format!(
            "unknown action `{name}` (press `?` in the console for the actions, or use \"{DISABLED}\" to unbind a key)"
        ),
    }
}

pub fn error(path: &Path, src: &str, offset: usize, message: impl Into<String>) -> Finding {
    Finding {
        severity: Severity::Error,
        diagnostic: Diagnostic::at_offset(path, src, offset, message),
    }
}

pub fn warning(path: &Path, src: &str, offset: usize, message: impl Into<String>) -> Finding {
    let message = format!("{WARNING_PREFIX}{}", message.into());
    Finding {
        severity: Severity::Warning,
        diagnostic: Diagnostic::at_offset(path, src, offset, message),
    }
}
