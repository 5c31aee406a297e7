//! `[[checks]]` resolved on what config.toml's loader cannot see: each target's groups in
//! hosts.toml, and each action check's template in the catalog with its `params` checked
//! by the action's own rules (like runbooks.toml). Problems are reported at the check's
//! `target` or `action` line.

use std::path::Path;

use crate::action::Catalog;
use crate::action::plan::{self, Inputs};
use crate::config::Settings;
use crate::diag::Diagnostic;
use crate::incident::check::Probe;
use crate::inventory::Inventory;
use crate::inventory::selector::Selector;

/// Targets naming an unknown group (when hosts.toml loaded: `inventory`), and actions that
/// are not in `catalog` or whose `params` it refuses.
pub fn check(
    config: &Path,
    settings: &Settings,
    inventory: Option<&Inventory>,
    catalog: &Catalog,
) -> Vec<Diagnostic> {
    if settings.checks.is_empty() {
        return Vec::new();
    }
    let src = std::fs::read_to_string(config).unwrap_or_default();
    let mut found = Vec::new();
    for c in &settings.checks {
        let at = |key: &str| key_in_block(&src, &c.name, key).unwrap_or(0);
        if let Some(inv) = inventory
            && let Err(e) = Selector::parse(&c.target).and_then(|s| s.resolve(inv))
        {
            found.push(Diagnostic::at_offset(
                config,
                &src,
                at("target"),
                format!("check `{}`: target `{}`: {}", c.name, c.target, e.message),
            ));
        }
        let Probe::Action(a) = &c.probe else {
            continue;
        };
        let problem = match catalog.find(&a.action) {
            Err(e) => Some(e),
            Ok(template) => {
                let inputs = Inputs {
                    values: a.params.clone(),
                    secrets: Default::default(),
                };
                plan::resolve_values(template, &inputs)
                    .err()
                    .map(|e| e.to_string().replace('\n', "; "))
            }
        };
        if let Some(problem) = problem {
            found.push(Diagnostic::at_offset(
                config,
                &src,
                at("action"),
                format!("check `{}`: action `{}`: {problem}", c.name, a.action),
            ));
        }
    }
    found
}

/// Byte offset of the value of `key = …` inside the `[[checks]]` table named `name`.
fn key_in_block(src: &str, name: &str, key: &str) -> Option<usize> {
    // The tables as (start, end) byte ranges, each from its `[[checks]]` header.
    let mut blocks = Vec::new();
    let mut offset = 0;
    let mut open: Option<usize> = None;
    for line in src.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if let Some(start) = open.take() {
                blocks.push((start, offset));
            }
            if trimmed.starts_with("[[checks]]") {
                open = Some(offset);
            }
        }
        offset += line.len();
    }
    if let Some(start) = open {
        blocks.push((start, src.len()));
    }
    let quoted = [format!("\"{name}\""), format!("'{name}'")];
    blocks.into_iter().find_map(|(start, end)| {
        let block = &src[start..end];
        let (_, named) = value_of(block, "name")?;
        if !quoted.iter().any(|q| named.starts_with(q.as_str())) {
            return None;
        }
        value_of(block, key).map(|(at, _)| start + at)
    })
}

/// Offset in `block` of the value of its `want = …` line, and that value's text.
fn value_of<'a>(block: &'a str, want: &str) -> Option<(usize, &'a str)> {
    let mut at = 0;
    for line in block.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(want)
            && rest.trim_start().starts_with('=')
            && let Some(eq) = line.find('=')
        {
            let value = &line[eq + 1..];
            let pad = value.len() - value.trim_start().len();
            return Some((at + eq + 1 + pad, value.trim()));
        }
        at += line.len();
    }
    None
}
