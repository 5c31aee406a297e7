//! From runbooks.toml's text to checked rules: globs compiled, the action looked up in the
//! catalog, each `params` key a parameter of that action, each value's placeholders parsed,
//! and a literal value already valid for its parameter. Every problem is a diagnostic at
//! file:line:column (all of them, not just the first).

use std::ops::Range;
use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

use super::file::{RuleFile, RunbooksFile};
use super::placeholder::{self, Piece};
use super::{FilledParam, Rule, RuleAction, RuleRef, Runbooks, Test};
use crate::action::{Catalog, ParamType};
use crate::config::toml_diag::parse_toml;
use crate::diag::{Diagnostic, did_you_mean};

/// Parses and checks the text of a runbooks.toml against the action catalog.
pub fn parse(path: &Path, src: &str, catalog: &Catalog) -> Result<Runbooks, Vec<Diagnostic>> {
    let file: RunbooksFile = parse_toml(path, src).map_err(|d| vec![d])?;
    let mut diags = Vec::new();
    let mut rules = Vec::new();
    for spanned in &file.rules {
        let start = spanned.span().start;
        let rule = spanned.get_ref();
        let at = RuleRef {
            file: path.to_path_buf(),
            line: crate::diag::line_col(src, start).0,
            name: rule.name.clone(),
        };
        if let Some(r) = check_rule(path, src, rule, at, catalog, &mut diags) {
            rules.push(r);
        }
    }
    if diags.is_empty() {
        Ok(Runbooks { rules })
    } else {
        Err(diags)
    }
}

fn check_rule(
    path: &Path,
    src: &str,
    rule: &RuleFile,
    at: RuleRef,
    catalog: &Catalog,
    diags: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let before = diags.len();
    let mut report = |offset: usize, message: String| {
        diags.push(Diagnostic::at_offset(path, src, offset, message));
    };
    if rule.hint.get_ref().trim().is_empty() {
        report(
            rule.hint.span().start,
            "`hint` is empty: say what the on-call engineer should look at".into(),
        );
    }
    let mut tests = Vec::new();
    for (label, glob) in &rule.matches.labels {
        if let Some(m) = compile_glob(glob.get_ref(), false, glob.span(), &mut report) {
            tests.push(Test::Label(label.clone(), m));
        }
    }
    if let Some(title) = &rule.matches.title
        && let Some(m) = compile_glob(title.get_ref(), true, title.span(), &mut report)
    {
        tests.push(Test::Title(m));
    }
    if let Some(sources) = &rule.matches.source {
        tests.push(Test::Source(sources.0.clone()));
    }
    if let Some(severities) = &rule.matches.severity {
        tests.push(Test::Severity(severities.0.clone()));
    }

    let action = match &rule.action {
        None => {
            if let Some((key, _)) = rule.params.iter().next() {
                report(
                    key.span().start,
                    "`params` without an `action`: name the action they are for".into(),
                );
            }
            None
        }
        Some(name) => check_action(name, rule, catalog, src, &mut report),
    };
    if diags.len() > before {
        return None;
    }
    Some(Rule {
        at,
        tests,
        hint: rule.hint.get_ref().trim().to_string(),
        action,
        runbook_url: rule
            .runbook_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string),
    })
}

fn compile_glob(
    pattern: &str,
    case_insensitive: bool,
    span: Range<usize>,
    report: &mut impl FnMut(usize, String),
) -> Option<GlobMatcher> {
    match GlobBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .literal_separator(false)
        .build()
    {
        Ok(g) => Some(g.compile_matcher()),
        Err(e) => {
            report(span.start, format!("bad glob `{pattern}`: {}", e.kind()));
            None
        }
    }
}

fn check_action(
    name: &toml::Spanned<String>,
    rule: &RuleFile,
    catalog: &Catalog,
    src: &str,
    report: &mut impl FnMut(usize, String),
) -> Option<RuleAction> {
    let Some(template) = catalog.get(name.get_ref()) else {
        let hint = did_you_mean(name.get_ref(), catalog.names())
            .map(|c| format!(": did you mean `{c}`?"))
            .unwrap_or_default();
        report(
            name.span().start,
            format!(
                "no action named `{}`{hint} (`fleetdeck actions` lists them)",
                name.get_ref()
            ),
        );
        return None;
    };
    let mut params = Vec::new();
    let mut ok = true;
    for (key, value) in &rule.params {
        let pname = key.get_ref();
        let Some(param) = template.param(pname) else {
            let names = template.params.iter().map(|p| p.name.as_str());
            let hint = did_you_mean(pname, names)
                .map(|c| format!(": did you mean `{c}`?"))
                .unwrap_or_default();
            let declared: Vec<&str> = template.params.iter().map(|p| p.name.as_str()).collect();
            let listed = if declared.is_empty() {
                "it has none".to_string()
            } else {
                format!("it has {}", declared.join(", "))
            };
            report(
                key.span().start,
                format!(
                    "action `{}` has no parameter `{pname}`{hint} ({listed})",
                    template.name
                ),
            );
            ok = false;
            continue;
        };
        if param.secret {
            report(
                key.span().start,
                format!(
                    "parameter `{pname}` of `{}` is a secret: it is never prefilled (the \
                     operator gives it when the action runs)",
                    template.name
                ),
            );
            ok = false;
            continue;
        }
        // The span starts at the opening quote; placeholder offsets are inside the string.
        let value_start =
            value.span().start + usize::from(src[value.span().start..].starts_with(['"', '\'']));
        let pieces = match placeholder::parse(&value.get_ref().0) {
            Ok(p) => p,
            Err(e) => {
                report(value_start + e.offset, e.message);
                ok = false;
                continue;
            }
        };
        if placeholder::has_fields(&pieces) {
            if param.kind == ParamType::Raw {
                report(
                    value.span().start,
                    format!(
                        "parameter `{pname}` is raw (inserted unquoted): it cannot be filled \
                         from an incident's labels; write a literal value or make it a string"
                    ),
                );
                ok = false;
                continue;
            }
        } else {
            let literal: String = pieces
                .iter()
                .map(|p| match p {
                    Piece::Text(t) => t.as_str(),
                    Piece::Field(_) => "",
                })
                .collect();
            if let Err(reason) = param.validate(&literal) {
                report(
                    value.span().start,
                    format!("parameter `{pname}` of `{}`: {reason}", template.name),
                );
                ok = false;
                continue;
            }
        }
        params.push(FilledParam {
            name: pname.clone(),
            param: param.clone(),
            pieces,
        });
    }
    ok.then(|| RuleAction {
        name: template.name.clone(),
        params,
    })
}
