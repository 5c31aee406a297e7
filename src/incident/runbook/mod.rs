//! Runbooks: runbooks.toml in the config folder. Each `[[rules]]` entry matches incidents by
//! labels, source, severity and title (globs), and gives a `hint` and optionally an action
//! template with parameters filled from the incident (`params = { unit = "{labels.unit}" }`).
//!
//! **The first matching rule wins**, in file order: put specific rules before general ones (a
//! rule with an empty `match` is a catch-all, so it belongs last).
//!
//! Filled values go through the action's own parameter validation (type, choices, regex), and
//! the action's rendering quotes them as it quotes anything an operator types, so a label
//! cannot smuggle shell syntax into a command. A value that cannot be filled (a missing
//! label, an incident on several hosts for `{host}`) or that the parameter refuses is left
//! out, with the reason, for the operator to type. Nothing here runs anything: the lead's
//! console opens the action's form with these values.
//!
//! `file` is the TOML form, `load` its checks, `placeholder` the `{…}` fields.

pub mod file;
pub mod load;
pub mod placeholder;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use globset::GlobMatcher;

use crate::action::{Catalog, Param};
use crate::config::Home;
use crate::diag::Diagnostic;
use crate::incident::facts::{IncidentFacts, Severity, Source};
use placeholder::Piece;

/// The rules of a runbooks.toml, in file order.
#[derive(Debug, Clone, Default)]
pub struct Runbooks {
    rules: Vec<Rule>,
}

/// Where a rule is written, shown beside its hint (`runbooks.toml:12 (disk full)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    pub file: PathBuf,
    /// 1-based line of the rule's `[[rules]]` header.
    pub line: usize,
    pub name: Option<String>,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)?;
        if let Some(name) = &self.name {
            write!(f, " ({name})")?;
        }
        Ok(())
    }
}

/// What the first matching rule says about an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunbookMatch {
    pub rule: RuleRef,
    pub hint: String,
    pub action: Option<SuggestedAction>,
    /// The alert's `annotations.runbook_url`, else the rule's `runbook_url`.
    pub runbook_url: Option<String>,
}

/// An action to prefill for exactly the incident's hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestedAction {
    /// The action template's name.
    pub name: String,
    /// Values filled and accepted by the parameter's validation, as text for the form
    /// (`action::Inputs::values`).
    pub params: BTreeMap<String, String>,
    /// Parameters the rule names but that could not be filled, each with the reason.
    pub unfilled: Vec<Unfilled>,
}

impl SuggestedAction {
    /// Whether every parameter the rule names was filled.
    pub fn is_complete(&self) -> bool {
        self.unfilled.is_empty()
    }
}

/// A parameter left for the operator, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfilled {
    pub param: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
struct Rule {
    at: RuleRef,
    tests: Vec<Test>,
    hint: String,
    action: Option<RuleAction>,
    runbook_url: Option<String>,
}

#[derive(Debug, Clone)]
enum Test {
    /// The label is present and its value matches (case-sensitive, like Alertmanager).
    Label(String, GlobMatcher),
    /// Case-insensitive.
    Title(GlobMatcher),
    Source(Vec<Source>),
    Severity(Vec<Severity>),
}

impl Test {
    fn holds(&self, facts: &IncidentFacts) -> bool {
        match self {
            Test::Label(name, glob) => facts.labels.get(name).is_some_and(|v| glob.is_match(v)),
            Test::Title(glob) => glob.is_match(&facts.title),
            Test::Source(list) => list.contains(&facts.source),
            Test::Severity(list) => list.contains(&facts.severity),
        }
    }
}

#[derive(Debug, Clone)]
struct RuleAction {
    name: String,
    params: Vec<FilledParam>,
}

/// One `params` entry: the template's parameter (for its validation) and the value's pieces.
#[derive(Debug, Clone)]
struct FilledParam {
    name: String,
    param: Param,
    pieces: Vec<Piece>,
}

impl Runbooks {
    /// The home's runbooks.toml, checked against `catalog`; a missing file has no rules.
    pub fn load(home: &Home, catalog: &Catalog) -> Result<Runbooks, Vec<Diagnostic>> {
        Runbooks::load_file(&home.runbooks_file(), catalog)
    }

    /// As [`Runbooks::load`], for a file.
    pub fn load_file(path: &Path, catalog: &Catalog) -> Result<Runbooks, Vec<Diagnostic>> {
        match std::fs::read_to_string(path) {
            Ok(src) => load::parse(path, &src, catalog),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Runbooks::default()),
            Err(e) => Err(vec![Diagnostic::whole_file(
                path,
                format!("cannot read: {e}"),
            )]),
        }
    }

    /// Parses the text of a runbooks.toml.
    pub fn parse(path: &Path, src: &str, catalog: &Catalog) -> Result<Runbooks, Vec<Diagnostic>> {
        load::parse(path, src, catalog)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The first rule matching `facts`, with its action's parameters filled; `None` when no
    /// rule matches (the incident's own [`IncidentFacts::runbook_url`] still applies).
    pub fn lookup(&self, facts: &IncidentFacts) -> Option<RunbookMatch> {
        let rule = self
            .rules
            .iter()
            .find(|r| r.tests.iter().all(|t| t.holds(facts)))?;
        Some(RunbookMatch {
            rule: rule.at.clone(),
            hint: rule.hint.clone(),
            action: rule.action.as_ref().map(|a| suggest(a, facts)),
            runbook_url: facts
                .runbook_url()
                .map(str::to_string)
                .or_else(|| rule.runbook_url.clone()),
        })
    }
}

fn suggest(action: &RuleAction, facts: &IncidentFacts) -> SuggestedAction {
    let mut params = BTreeMap::new();
    let mut unfilled = Vec::new();
    for p in &action.params {
        let checked = placeholder::fill(&p.pieces, facts).and_then(|text| {
            // The action's own validation: type, choices and regex, exactly as if typed.
            p.param
                .validate(&text)
                .map(|_| text)
                .map_err(|reason| format!("the value from the incident is refused: {reason}"))
        });
        match checked {
            Ok(text) => {
                params.insert(p.name.clone(), text);
            }
            Err(reason) => unfilled.push(Unfilled {
                param: p.name.clone(),
                reason,
            }),
        }
    }
    SuggestedAction {
        name: action.name.clone(),
        params,
        unfilled,
    }
}
