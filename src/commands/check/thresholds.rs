//! `[[thresholds]]` selectors resolved on the inventory: config.toml's loader already checked
//! their syntax, but only hosts.toml knows whether an `@group` exists.

use std::path::Path;

use crate::config::Settings;
use crate::diag::Diagnostic;
use crate::incident::threshold::Evaluator;
use crate::inventory::Inventory;

/// One diagnostic per threshold whose selector names an unknown group, at its `selector`.
pub fn check(config: &Path, settings: &Settings, inv: &Inventory) -> Vec<Diagnostic> {
    let src = std::fs::read_to_string(config).unwrap_or_default();
    let mut found = Vec::new();
    for t in &settings.thresholds {
        let Some(selector) = &t.selector else {
            continue;
        };
        if let Err(message) = Evaluator::new(std::slice::from_ref(t), inv) {
            let offset = selector_offset(&src, selector).unwrap_or(0);
            found.push(Diagnostic::at_offset(config, &src, offset, message));
        }
    }
    found
}

/// Byte offset of the value of the `selector = "TEXT"` line holding `text`.
fn selector_offset(src: &str, text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("selector")
            && trimmed.contains(text)
            && let Some(eq) = line.find('=')
        {
            let value = line[eq + 1..].len() - line[eq + 1..].trim_start().len();
            return Some(offset + eq + 1 + value);
        }
        offset += line.len();
    }
    None
}
