//! Selectors: which hosts a `-t` expression means.
//!
//! A selector is a list of terms joined by operators, applied strictly left to right (there is
//! no precedence: `a,b&c` is `(a ∪ b) ∩ c`):
//!
//! - `,` union, `&` intersection, `!` difference, `^` symmetric difference (ClusterShell's
//!   xor: `web[01-03]^web[02-04]` is `web01,web04`); `,&`, `,!` and `,^` mean the same as
//!   `&`, `!` and `^`;
//! - a leading `!` subtracts from all hosts of the inventory (`!@db`);
//! - spaces around terms and operators are ignored.
//!
//! A term is one of:
//!
//! - `all`: every host of the inventory;
//! - `@group`, `tag:NAME`, `env:NAME`, `transport:ssh|agent|local`; an unknown group is an
//!   error (probably a typo), an unknown tag or environment simply matches nothing;
//! - `~REGEX`: hosts whose name contains a match of the regex (an unanchored search, like
//!   ClusterShell and grep: use `^…$` to match whole names);
//! - a metric term on the latest samples: `cpu>90`, `mem>=80`, `disk<10`, `load<=0.5`,
//!   `cpu=50` (`=` compares at the precision written: `cpu=50` is 49.5 up to 50.5), and
//!   `stale` (no fresh sample); see [`MetricFacts`] for how they are evaluated;
//! - a glob, when the term contains `*` or `?` (`web*`, `db?`, `web[!0]*`);
//! - otherwise a node set or plain name (`web07`, `web[01-20,30]`, `node[1-9/2]`,
//!   `rack[1-2]-n[01-03]`).
//!
//! Commas, `!` and `^` inside `[...]` belong to the node set or glob, not to the operators. A
//! regex runs until the next `,`, `&`, `!` or `^` outside brackets, parentheses and braces, so
//! `~^web(1|2)[0-9]{1,2}$` is one term; a `^` at the start of the regex, after a top-level `|`
//! or after a flag group such as `(?i)` is the regex's anchor, not the operator. To use one of
//! those characters at the top level of a regex otherwise, escape it (`\,`, `\&`, `\!`,
//! `\^`). Globs cannot use `{a,b}` alternation: write `a*,b*`.
//!
//! A node set or plain name that is not in the inventory is still a valid ssh destination
//! (like `pdsh -w`): in a union or `^` position it adds an ad-hoc host (`^` removes it again if
//! it is already there). In `&` and `!` positions names only filter. Globs, regexes, tags,
//! metric terms and the like never create ad-hoc hosts.
//!
//! Metric terms need the hosts' latest samples, which this module never fetches:
//! [`Selector::resolve`] refuses a selector holding one, [`Selector::resolve_with_metrics`]
//! evaluates it on [`MetricFacts`], and [`Selector::metric_candidates`] says which hosts need
//! a sample first.

mod metric;
#[cfg(test)]
mod metric_tests;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use globset::{Glob, GlobMatcher};
use regex::Regex;

use super::host::{Host, Inventory, TransportKind};
use super::nodeset;
use crate::diag::did_you_mean;

use metric::MetricTerm;
pub use metric::{FrameFacts, MetricFacts, MetricView};

/// A selector that does not parse, or names an unknown group.
///
/// Displays as three lines: the message (which includes the column), the selector indented by
/// two spaces, and a caret under the column:
///
/// ```text
/// unknown group `@dbx` at column 12 (known groups: db, web)
///   web[01-20]&@dbx
///              ^
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SelectorError {
    /// 1-based column, in characters, in `input`.
    pub column: usize,
    /// The first line of the report, column included.
    pub message: String,
    /// The selector as given.
    pub input: String,
}

impl SelectorError {
    /// An error at byte offset `at` of `input`: `"{what} at column N"`, then ` ({hint})`.
    fn new(input: &str, at: usize, what: impl fmt::Display, hint: Option<String>) -> Self {
        let mut at = at.min(input.len());
        while !input.is_char_boundary(at) {
            at -= 1;
        }
        let column = input[..at].chars().count() + 1;
        let mut message = format!("{what} at column {column}");
        if let Some(hint) = hint {
            message.push_str(&format!(" ({hint})"));
        }
        Self {
            column,
            message,
            input: input.to_string(),
        }
    }
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keep the caret aligned: one character, one column.
        let shown: String = self
            .input
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        writeln!(f, "{}", self.message)?;
        writeln!(f, "  {shown}")?;
        write!(f, "  {}^", " ".repeat(self.column.saturating_sub(1)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Intersect,
    Difference,
    /// Symmetric difference (`^`).
    Xor,
}

#[derive(Debug, Clone)]
enum Term {
    All,
    Group(String),
    Tag(String),
    Env(String),
    Transport(TransportKind),
    Glob(GlobMatcher),
    Regex(Regex),
    /// An expanded node set, in the order written.
    Names(Vec<String>),
    /// `cpu>90`, `stale` and the like: needs [`MetricFacts`].
    Metric(MetricTerm),
}

#[derive(Debug, Clone)]
struct Step {
    op: Op,
    term: Term,
    /// Byte offset of the term in the input (for resolution errors).
    at: usize,
}

/// A parsed selector; [`Selector::resolve`] applies it to an inventory.
#[derive(Debug, Clone)]
pub struct Selector {
    input: String,
    steps: Vec<Step>,
    /// A leading `!`: start from every host instead of none.
    from_all: bool,
}

impl Selector {
    /// Parses a selector, reporting syntax errors with their column. Groups are checked by
    /// [`Selector::resolve`], which knows the inventory.
    pub fn parse(input: &str) -> Result<Selector, SelectorError> {
        let b = input.as_bytes();
        let mut i = skip_spaces(input, 0);
        if i == b.len() {
            return Err(SelectorError::new(input, 0, "empty selector", None));
        }
        let mut from_all = false;
        let mut op = Op::Union;
        let mut op_text = "";
        if b[i] == b'!' {
            from_all = true;
            op = Op::Difference;
            op_text = "!";
            i += 1;
        }
        let mut steps = Vec::new();
        loop {
            let start = skip_spaces(input, i);
            let end = scan_term(b, start);
            let text = input[start..end].trim_end();
            if text.is_empty() {
                return Err(if end == b.len() {
                    SelectorError::new(
                        input,
                        end,
                        format!("empty term after `{op_text}`"),
                        Some("the selector ends here".into()),
                    )
                } else {
                    let c = b[end] as char;
                    SelectorError::new(input, end, format!("empty term before `{c}`"), None)
                });
            }
            let term = parse_term(input, start, text)?;
            steps.push(Step {
                op,
                term,
                at: start,
            });
            if end == b.len() {
                break;
            }
            i = end + 1;
            (op, op_text) = match b[end] {
                b'&' => (Op::Intersect, "&"),
                b'!' => (Op::Difference, "!"),
                b'^' => (Op::Xor, "^"),
                _ => {
                    let j = skip_spaces(input, i);
                    match b.get(j) {
                        Some(b'&') => {
                            i = j + 1;
                            (Op::Intersect, ",&")
                        }
                        Some(b'!') => {
                            i = j + 1;
                            (Op::Difference, ",!")
                        }
                        Some(b'^') => {
                            i = j + 1;
                            (Op::Xor, ",^")
                        }
                        _ => (Op::Union, ","),
                    }
                }
            };
        }
        Ok(Selector {
            input: input.to_string(),
            steps,
            from_all,
        })
    }

    /// The selector as written.
    pub fn as_str(&self) -> &str {
        &self.input
    }

    /// The hosts the selector means: inventory hosts in inventory order, then ad-hoc hosts
    /// (names not in the inventory, see the module documentation) in the order given.
    ///
    /// Fails for an unknown `@group` (unknown tags and environments match nothing) and for a
    /// metric term (`cpu>90`, `stale`), which needs [`Selector::resolve_with_metrics`]: a
    /// selector that cannot be evaluated is refused, never taken to match nothing.
    pub fn resolve(&self, inv: &Inventory) -> Result<Vec<Host>, SelectorError> {
        self.evaluate(inv, Metrics::Unavailable)
    }

    /// [`Selector::resolve`] with metric terms evaluated on `facts` (see [`MetricFacts`]: a
    /// comparison never matches missing or stale data; `stale` matches hosts with no fresh
    /// sample). Ad-hoc hosts are looked up by name like the others.
    pub fn resolve_with_metrics(
        &self,
        inv: &Inventory,
        facts: &dyn MetricFacts,
    ) -> Result<Vec<Host>, SelectorError> {
        self.evaluate(inv, Metrics::Facts(facts))
    }

    /// Whether the selector holds a metric term (and so needs
    /// [`Selector::resolve_with_metrics`]).
    pub fn has_metric_terms(&self) -> bool {
        self.steps.iter().any(|s| matches!(s.term, Term::Metric(_)))
    }

    /// The hosts whose samples [`Selector::resolve_with_metrics`] needs: every host that some
    /// outcome of the metric terms could select, in the order `resolve` gives, so whatever
    /// the facts, `resolve_with_metrics` picks a subset of these.
    ///
    /// Each metric term counts as true after `,` and `&` (where it can only add or keep
    /// hosts), as false after `!` (where it can only take them away), and as either after `^`
    /// (both sides' hosts stay in reach). So `env:prod&disk>90` needs the `env:prod` hosts, `@web!stale`
    /// the `@web` hosts, `web01^cpu>90` every host. Terms are taken independently (`cpu>90`
    /// and `cpu<10` are not known to exclude each other). Without metric terms this is
    /// exactly what `resolve` gives.
    pub fn metric_candidates(&self, inv: &Inventory) -> Result<Vec<Host>, SelectorError> {
        self.evaluate(inv, Metrics::Unknown)
    }

    fn evaluate(&self, inv: &Inventory, metrics: Metrics<'_>) -> Result<Vec<Host>, SelectorError> {
        let n = inv.len();
        let mut acc = Bounds::exact(if self.from_all {
            Bits::full(n)
        } else {
            Bits::empty(n)
        });
        let mut adhoc = AdHoc::default();
        for step in &self.steps {
            let bounds = self.eval(step, inv, metrics)?;
            acc.apply(step.op, &bounds);
            adhoc.apply(step.op, &step.term, inv, metrics);
        }
        let hosts = inv.hosts();
        // `hi` is every host that may be selected; with every term exact it equals `lo`.
        Ok(acc
            .hi
            .ones()
            .map(|i| hosts[i].clone())
            .chain(adhoc.names().map(Host::ad_hoc))
            .collect())
    }

    /// The inventory hosts a term matches: exactly, except for a metric term without facts.
    fn eval(
        &self,
        step: &Step,
        inv: &Inventory,
        metrics: Metrics<'_>,
    ) -> Result<Bounds, SelectorError> {
        let hosts = inv.hosts();
        let by = |pred: &dyn Fn(&Host) -> bool| Bits::from_fn(hosts, pred);
        let bits = match &step.term {
            Term::All => Bits::full(hosts.len()),
            Term::Group(g) => {
                let bits = by(&|h| h.groups.contains(g));
                if bits.is_empty() {
                    return Err(self.unknown_group(step.at, g, inv));
                }
                bits
            }
            Term::Tag(t) => by(&|h| h.tags.contains(t)),
            Term::Env(e) => by(&|h| h.env.as_deref() == Some(e.as_str())),
            Term::Transport(t) => by(&|h| h.transport == *t),
            Term::Glob(g) => by(&|h| g.is_match(&h.name)),
            Term::Regex(r) => by(&|h| r.is_match(&h.name)),
            Term::Names(names) => {
                let mut bits = Bits::empty(hosts.len());
                for name in names {
                    if let Some(i) = inv.index_of(name) {
                        bits.set(i);
                    }
                }
                bits
            }
            Term::Metric(m) => match metrics {
                Metrics::Unavailable => {
                    return Err(SelectorError::new(
                        &self.input,
                        step.at,
                        format!("metric term `{m}` needs the hosts' latest samples"),
                        Some("this command does not sample hosts".into()),
                    ));
                }
                Metrics::Facts(facts) => by(&|h| m.matches(facts, &h.name)),
                Metrics::Unknown => {
                    return Ok(Bounds {
                        lo: Bits::empty(hosts.len()),
                        hi: Bits::full(hosts.len()),
                    });
                }
            },
        };
        Ok(Bounds::exact(bits))
    }

    fn unknown_group(&self, at: usize, group: &str, inv: &Inventory) -> SelectorError {
        const LIST_MAX: usize = 8;
        let known = inv.groups();
        let hint = if known.is_empty() {
            "the inventory defines no groups".to_string()
        } else if known.len() <= LIST_MAX {
            let list: Vec<&str> = known.iter().copied().collect();
            format!("known groups: {}", list.join(", "))
        } else if let Some(s) = did_you_mean(group, known.iter().copied()) {
            format!("did you mean `@{s}`?")
        } else {
            let list: Vec<&str> = known.iter().copied().take(LIST_MAX).collect();
            format!(
                "known groups: {}, … and {} more",
                list.join(", "),
                known.len() - LIST_MAX
            )
        };
        SelectorError::new(
            &self.input,
            at,
            format!("unknown group `@{group}`"),
            Some(hint),
        )
    }
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Selector::parse(s)
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.input)
    }
}

fn skip_spaces(input: &str, from: usize) -> usize {
    input[from..]
        .find(|c: char| !c.is_whitespace())
        .map_or(input.len(), |n| from + n)
}

/// The end of the term starting at `start`: the next `,`, `&`, `!` or `^` outside brackets
/// (and, in a `~regex`, outside parentheses, braces and escapes, and not a `^` anchor), or the
/// end of the input.
fn scan_term(b: &[u8], start: usize) -> usize {
    let mut i = start;
    if b.get(i) == Some(&b'~') {
        let (mut class, mut group) = (0usize, 0usize);
        // Whether a top-level `^` here would be the regex's own anchor: at its start, after a
        // top-level `|`, or after a flag group like `(?i)`. Elsewhere an anchor is of no use
        // on a one-line host name, so it is the operator.
        let mut anchor_place = true;
        i += 1;
        while i < b.len() {
            let top = class == 0 && group == 0;
            if top
                && anchor_place
                && let Some(end) = flag_group_end(b, i)
            {
                i = end + 1;
                continue;
            }
            let mut keeps_anchor_place = false;
            match b[i] {
                b'\\' => i += 1,
                b'[' => {
                    class += 1;
                    // `[]…]` and `[^]…]`: a `]` right after the opening is literal.
                    if b.get(i + 1) == Some(&b'^') {
                        i += 1;
                    }
                    if b.get(i + 1) == Some(&b']') {
                        i += 1;
                    }
                }
                b']' if class > 0 => class -= 1,
                b'(' | b'{' if class == 0 => group += 1,
                b')' | b'}' if class == 0 => group = group.saturating_sub(1),
                b'|' if top => keeps_anchor_place = true,
                b'^' if top && anchor_place => keeps_anchor_place = true,
                b',' | b'&' | b'!' | b'^' if top => return i,
                _ => {}
            }
            anchor_place = keeps_anchor_place;
            i += 1;
        }
        return b.len();
    }
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b',' | b'&' | b'!' | b'^' if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// The index of the `)` closing a regex flag group (`(?i)`, `(?-u)`) opening at `open`.
fn flag_group_end(b: &[u8], open: usize) -> Option<usize> {
    if b.get(open) != Some(&b'(') || b.get(open + 1) != Some(&b'?') {
        return None;
    }
    let flags = open + 2;
    let len = b
        .get(flags..)?
        .iter()
        .position(|c| !b"imsxuUR-".contains(c))?;
    (len > 0 && b.get(flags + len) == Some(&b')')).then_some(flags + len)
}

/// Parses one term, `text`, found at byte offset `at` of `input`.
fn parse_term(input: &str, at: usize, text: &str) -> Result<Term, SelectorError> {
    let err = |off: usize, what: String, hint: Option<String>| {
        SelectorError::new(input, at + off, what, hint)
    };
    if text == "all" {
        return Ok(Term::All);
    }
    if let Some(name) = text.strip_prefix('@') {
        if name.is_empty() {
            return Err(err(1, "empty group name after `@`".into(), None));
        }
        return Ok(Term::Group(name.to_string()));
    }
    for (prefix, kind) in [("tag:", "tag"), ("env:", "environment")] {
        if let Some(name) = text.strip_prefix(prefix) {
            if name.is_empty() {
                return Err(err(
                    prefix.len(),
                    format!("empty {kind} name after `{prefix}`"),
                    None,
                ));
            }
            return Ok(if prefix == "tag:" {
                Term::Tag(name.to_string())
            } else {
                Term::Env(name.to_string())
            });
        }
    }
    if let Some(value) = text.strip_prefix("transport:") {
        return TransportKind::parse(value)
            .map(Term::Transport)
            .ok_or_else(|| {
                let names = TransportKind::ALL.map(TransportKind::as_str);
                let hint = match did_you_mean(value, names) {
                    Some(s) if !value.is_empty() => format!("did you mean `{s}`?"),
                    _ => format!("expected {}, {} or {}", names[0], names[1], names[2]),
                };
                let what = if value.is_empty() {
                    "empty transport after `transport:`".to_string()
                } else {
                    format!("unknown transport `{value}`")
                };
                err("transport:".len(), what, Some(hint))
            });
    }
    if let Some(pattern) = text.strip_prefix('~') {
        if pattern.is_empty() {
            return Err(err(1, "empty regex after `~`".into(), None));
        }
        return Regex::new(pattern).map(Term::Regex).map_err(|e| {
            let (off, why) = regex_error(&e);
            err(1 + off, format!("invalid regex: {why}"), None)
        });
    }
    if let Some(parsed) = MetricTerm::parse(text) {
        return parsed
            .map(Term::Metric)
            .map_err(|(off, what, hint)| err(off, what, hint));
    }
    if text.contains(['*', '?']) {
        return Glob::new(text)
            .map(|g| Term::Glob(g.compile_matcher()))
            .map_err(|e| err(0, format!("invalid glob: {}", e.kind()), None));
    }
    nodeset::expand(text)
        .map(Term::Names)
        .map_err(|e| err(e.offset, format!("invalid node set: {}", e.message), None))
}

/// The byte offset (in the pattern) and the short reason of a regex syntax error. The regex
/// crate only gives a rendered message: the pattern on an indented line, carets under the
/// problem, then `error: …`.
fn regex_error(e: &regex::Error) -> (usize, String) {
    let regex::Error::Syntax(text) = e else {
        return (0, e.to_string());
    };
    let lines: Vec<&str> = text.lines().collect();
    let why = lines
        .iter()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or(text.as_str())
        .to_string();
    // `    pattern` then `    ^^^`, both indented by four spaces, for one-line patterns.
    let off = lines
        .iter()
        .position(|l| l.trim_start().starts_with('^'))
        .filter(|&p| p >= 1)
        .and_then(|p| {
            let pattern = lines[p - 1].strip_prefix("    ")?;
            let chars = lines[p].find('^')?.checked_sub(4)?;
            pattern.char_indices().nth(chars).map(|(b, _)| b)
        })
        .unwrap_or(0);
    (off, why)
}

/// How metric terms are evaluated.
#[derive(Clone, Copy)]
enum Metrics<'a> {
    /// They cannot be: a metric term is an error ([`Selector::resolve`]).
    Unavailable,
    /// On these facts ([`Selector::resolve_with_metrics`]).
    Facts(&'a dyn MetricFacts),
    /// Each may be true or false for any host ([`Selector::metric_candidates`]).
    Unknown,
}

/// Whether a term matches an ad-hoc host (a name not in the inventory), for the operators
/// after the first union. Ad-hoc hosts are ssh destinations without tags, groups or
/// environment.
enum AdHocMatcher<'a> {
    Never,
    Always,
    /// A metric term without facts: maybe.
    Unknown,
    Names(HashSet<&'a str>),
    Glob(&'a GlobMatcher),
    Regex(&'a Regex),
    Metric(&'a MetricTerm, &'a dyn MetricFacts),
}

impl<'a> AdHocMatcher<'a> {
    fn new(term: &'a Term, metrics: Metrics<'a>) -> Self {
        match term {
            Term::All | Term::Group(_) | Term::Tag(_) | Term::Env(_) => Self::Never,
            Term::Transport(t) => {
                if *t == TransportKind::Ssh {
                    Self::Always
                } else {
                    Self::Never
                }
            }
            Term::Glob(g) => Self::Glob(g),
            Term::Regex(r) => Self::Regex(r),
            Term::Names(names) => Self::Names(names.iter().map(String::as_str).collect()),
            Term::Metric(m) => match metrics {
                Metrics::Facts(facts) => Self::Metric(m, facts),
                Metrics::Unknown => Self::Unknown,
                // `Selector::eval` refuses the term before ad-hoc hosts are looked at.
                Metrics::Unavailable => Self::Never,
            },
        }
    }

    /// (surely matches, possibly matches).
    fn test(&self, name: &str) -> (bool, bool) {
        let sure = match self {
            Self::Never => false,
            Self::Always => true,
            Self::Unknown => return (false, true),
            Self::Names(set) => set.contains(name),
            Self::Glob(g) => g.is_match(name),
            Self::Regex(r) => r.is_match(name),
            Self::Metric(m, facts) => m.matches(*facts, name),
        };
        (sure, sure)
    }
}

/// The ad-hoc hosts selected so far, in the order they came; each surely selected or only
/// possibly (a metric term without facts decided it). Lookups are hashed so that large node
/// sets of ad-hoc names stay linear.
#[derive(Default)]
struct AdHoc<'a> {
    entries: Vec<AdHocEntry<'a>>,
    /// Name → index of its entry, for the entries still selected.
    live: HashMap<&'a str, usize>,
}

struct AdHocEntry<'a> {
    name: &'a str,
    sure: bool,
    /// Taken away by a later term (entries are not removed, so indexes stay valid).
    gone: bool,
}

impl<'a> AdHoc<'a> {
    fn apply(&mut self, op: Op, term: &'a Term, inv: &Inventory, metrics: Metrics<'a>) {
        // Names the term brings in: only a node set in a union or `^` position, and only those
        // not selected before this step (`^` takes those away below).
        let added: Vec<&'a str> = match (op, term) {
            (Op::Union | Op::Xor, Term::Names(names)) => names
                .iter()
                .map(String::as_str)
                .filter(|n| inv.index_of(n).is_none() && !self.live.contains_key(n))
                .collect(),
            _ => Vec::new(),
        };
        if !self.live.is_empty() {
            let matcher = AdHocMatcher::new(term, metrics);
            let Self { entries, live } = self;
            for e in entries.iter_mut().filter(|e| !e.gone) {
                let (t_sure, t_maybe) = matcher.test(e.name);
                // The same three-valued logic as `Bounds::apply`, for one host.
                let (sure, maybe) = match op {
                    Op::Union => (e.sure || t_sure, true),
                    Op::Intersect => (e.sure && t_sure, t_maybe),
                    Op::Difference => (e.sure && !t_maybe, !t_sure),
                    Op::Xor => (e.sure && !t_maybe, !t_sure || (t_maybe && !e.sure)),
                };
                e.sure = sure;
                if !maybe {
                    e.gone = true;
                    live.remove(e.name);
                }
            }
        }
        for name in added {
            self.live.insert(name, self.entries.len());
            self.entries.push(AdHocEntry {
                name,
                sure: true,
                gone: false,
            });
        }
    }

    /// The names still (possibly) selected, in order.
    fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.entries.iter().filter(|e| !e.gone).map(|e| e.name)
    }
}

/// A set of inventory hosts between bounds: `lo` surely in it, `hi` possibly in it. They
/// differ only while a metric term is unknown ([`Selector::metric_candidates`]); operators
/// follow three-valued logic host by host.
struct Bounds {
    lo: Bits,
    hi: Bits,
}

impl Bounds {
    fn exact(bits: Bits) -> Self {
        Self {
            hi: bits.clone(),
            lo: bits,
        }
    }

    fn apply(&mut self, op: Op, t: &Bounds) {
        match op {
            Op::Union => {
                self.lo.or(&t.lo);
                self.hi.or(&t.hi);
            }
            Op::Intersect => {
                self.lo.and(&t.lo);
                self.hi.and(&t.hi);
            }
            Op::Difference => {
                self.lo.and_not(&t.hi);
                self.hi.and_not(&t.lo);
            }
            Op::Xor => {
                let words = self
                    .lo
                    .words
                    .iter_mut()
                    .zip(self.hi.words.iter_mut())
                    .zip(t.lo.words.iter().zip(&t.hi.words));
                for ((a_lo, a_hi), (b_lo, b_hi)) in words {
                    // Surely in exactly one side: surely in one, surely not in the other.
                    // Possibly: possibly in one side and possibly not in the other.
                    let lo = (*a_lo & !b_hi) | (b_lo & !*a_hi);
                    let hi = (*a_hi & !b_lo) | (b_hi & !*a_lo);
                    (*a_lo, *a_hi) = (lo, hi);
                }
            }
        }
    }
}

/// A set of inventory indexes.
#[derive(Debug, Clone)]
struct Bits {
    words: Vec<u64>,
}

impl Bits {
    fn empty(len: usize) -> Self {
        Self {
            words: vec![0; len.div_ceil(64)],
        }
    }

    fn full(len: usize) -> Self {
        let mut words = vec![u64::MAX; len.div_ceil(64)];
        if !len.is_multiple_of(64)
            && let Some(last) = words.last_mut()
        {
            *last = (1u64 << (len % 64)) - 1;
        }
        Self { words }
    }

    fn from_fn(hosts: &[Host], pred: &dyn Fn(&Host) -> bool) -> Self {
        let mut bits = Self::empty(hosts.len());
        for (i, h) in hosts.iter().enumerate() {
            if pred(h) {
                bits.set(i);
            }
        }
        bits
    }

    fn set(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    fn or(&mut self, other: &Bits) {
        self.words
            .iter_mut()
            .zip(&other.words)
            .for_each(|(a, b)| *a |= b);
    }

    fn and(&mut self, other: &Bits) {
        self.words
            .iter_mut()
            .zip(&other.words)
            .for_each(|(a, b)| *a &= b);
    }

    fn and_not(&mut self, other: &Bits) {
        self.words
            .iter_mut()
            .zip(&other.words)
            .for_each(|(a, b)| *a &= !b);
    }

    fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(wi * 64 + bit)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An inventory host with the given env, tags, groups and transport (metric_tests too).
    pub(super) fn host(
        name: &str,
        env: &str,
        tags: &[&str],
        groups: &[&str],
        t: TransportKind,
    ) -> Host {
        let mut h = Host::ad_hoc(name);
        h.in_inventory = true;
        h.env = (!env.is_empty()).then(|| env.to_string());
        h.tags = tags.iter().map(|s| s.to_string()).collect();
        h.groups = groups.iter().map(|s| s.to_string()).collect();
        h.transport = t;
        h
    }

    /// web01..web20 (odd ones prod, even ones staging; web01-web10 tagged `front`), db1..db3
    /// (prod, group db, db3 via the agent), lb (local, no env).
    fn inventory() -> Inventory {
        let mut hosts = Vec::new();
        for i in 1..=20 {
            let env = if i % 2 == 1 { "prod" } else { "staging" };
            let tags: &[&str] = if i <= 10 {
                &["front", "nginx"]
            } else {
                &["nginx"]
            };
            hosts.push(host(
                &format!("web{i:02}"),
                env,
                tags,
                &["web"],
                TransportKind::Ssh,
            ));
        }
        for i in 1..=3 {
            let t = if i == 3 {
                TransportKind::Agent
            } else {
                TransportKind::Ssh
            };
            hosts.push(host(&format!("db{i}"), "prod", &["pg"], &["db"], t));
        }
        hosts.push(host("lb", "", &[], &[], TransportKind::Local));
        Inventory::new(hosts)
    }

    fn names(sel: &str) -> Vec<String> {
        let inv = inventory();
        Selector::parse(sel)
            .unwrap_or_else(|e| panic!("{e}"))
            .resolve(&inv)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|h| h.name)
            .collect()
    }

    fn folded(sel: &str) -> String {
        let n = names(sel);
        nodeset::fold(n.iter().map(String::as_str))
    }

    fn parse_err(sel: &str) -> (usize, String) {
        let e = Selector::parse(sel).expect_err(sel);
        (e.column, e.message)
    }

    #[test]
    fn design_example() {
        assert_eq!(
            folded("web[01-20]&env:prod!web07"),
            "web[01,03,05,09,11,13,15,17,19]"
        );
    }

    #[test]
    fn term_kinds() {
        assert_eq!(names("all").len(), 24);
        assert_eq!(folded("@db"), "db[1-3]");
        assert_eq!(folded("tag:front"), "web[01-10]");
        assert_eq!(folded("env:staging&tag:front"), "web[02,04,06,08,10]");
        assert_eq!(folded("transport:agent"), "db3");
        assert_eq!(folded("transport:local"), "lb");
        assert_eq!(names("transport:ssh").len(), 22);
        assert_eq!(folded("web0*"), "web[01-09]");
        assert_eq!(folded("db?"), "db[1-3]");
        assert_eq!(folded("web[!0]*"), "web[10-20]");
        assert_eq!(folded("~b1"), "db1,web[10-19]");
        assert_eq!(folded("~^web1"), "web[10-19]");
        assert_eq!(folded("~^db[12]$"), "db[1-2]");
        assert_eq!(folded("node[1-9/2]&all"), "");
        assert_eq!(folded("web[01-03],db2"), "db2,web[01-03]");
        assert_eq!(folded("web07"), "web07");
        assert_eq!(folded("web[01-02]-x[1-2]&all"), "");
    }

    #[test]
    fn unknown_tags_and_envs_match_nothing() {
        assert!(names("tag:nope").is_empty());
        assert!(names("env:nope").is_empty());
        assert_eq!(folded("db1,tag:nope"), "db1");
    }

    #[test]
    fn hosts_come_in_inventory_order() {
        assert_eq!(names("lb,db2,web02"), ["web02", "db2", "lb"]);
    }

    #[test]
    fn strictly_left_to_right() {
        // (web01 ∪ db1) ∩ @db, not web01 ∪ (db1 ∩ @db)
        assert_eq!(names("web01,db1&@db"), ["db1"]);
        // (@db ! db1) ∪ db1
        assert_eq!(names("@db!db1,db1"), ["db1", "db2", "db3"]);
        // (@db ∪ web01) ! web01
        assert_eq!(names("@db,web01!web01"), ["db1", "db2", "db3"]);
        assert_eq!(folded("tag:front&env:prod,db1"), "db1,web[01,03,05,07,09]");
    }

    #[test]
    fn leading_bang_subtracts_from_all() {
        assert_eq!(folded("!@web"), "db[1-3],lb");
        assert_eq!(folded("!@web!lb"), "db[1-3]");
        assert_eq!(folded(" ! @web , web01"), "db[1-3],lb,web01");
    }

    #[test]
    fn comma_before_an_operator() {
        assert_eq!(names("@db,&db[1-2]"), names("@db&db[1-2]"));
        assert_eq!(names("@db,!db[1-2]"), ["db3"]);
        assert_eq!(names("@db, ! db1 , &db2"), names("@db!db1&db2"));
    }

    #[test]
    fn brackets_keep_their_commas_and_bangs() {
        assert_eq!(folded("web[01-02,05]&env:prod"), "web[01,05]");
        assert_eq!(folded("web[01,03]!web03"), "web01");
        assert_eq!(folded("web[!1]*&tag:front"), "web[01-09]");
        assert_eq!(folded("~^web(01|02),db1"), "db1,web[01-02]");
        assert_eq!(folded("~^web0[1,2]$"), "web[01-02]");
        assert_eq!(folded("~^db\\d{1,2}$!db2"), "db[1,3]");
        assert_eq!(folded("~^web\\,?01"), "web01");
        assert_eq!(folded("~^db[]1],lb"), "db1,lb");
    }

    #[test]
    fn caret_is_a_symmetric_difference() {
        // Issue 17: ClusterShell's `web[01-03]^web[02-04]` is `web01 web04`, never a name
        // holding `^`.
        let four = Inventory::new(
            (1..=4)
                .map(|i| host(&format!("web{i:02}"), "", &[], &[], TransportKind::Ssh))
                .collect(),
        );
        let resolve = |sel: &str, inv: &Inventory| -> Vec<(String, bool)> {
            Selector::parse(sel)
                .unwrap_or_else(|e| panic!("{e}"))
                .resolve(inv)
                .unwrap_or_else(|e| panic!("{e}"))
                .into_iter()
                .map(|h| (h.name, h.in_inventory))
                .collect()
        };
        let both =
            |a: &str, b: &str, known: bool| vec![(a.to_string(), known), (b.to_string(), known)];
        assert_eq!(
            resolve("web[01-03]^web[02-04]", &four),
            both("web01", "web04", true)
        );
        // Names not in the inventory: the same set of plain ssh destinations.
        assert_eq!(
            resolve("web[01-03]^web[02-04]", &Inventory::default()),
            both("web01", "web04", false)
        );
        assert_eq!(names("web[01-03],^web[02-04]"), ["web01", "web04"]);
        assert_eq!(names("web[01-03] , ^ web[02-04]"), ["web01", "web04"]);
        assert_eq!(
            names("web[01-05]^web[03-07]^web05"),
            names("web[01-02,05-07]")
        );
        assert_eq!(names("@db^db[2-5]"), ["db1", "db4", "db5"]);
        assert_eq!(names("gpu1^gpu1"), Vec::<String>::new());
        assert_eq!(names("gpu1^gpu1,gpu1"), ["gpu1"]);
        assert_eq!(names("gpu[1-3]^gpu?"), Vec::<String>::new());
        assert_eq!(
            folded("tag:front^env:prod"),
            "db[1-3],web[02,04,06,08,10-11,13,15,17,19]"
        );
        // Left to right like the others: (web01 ∪ web02) ^ web02, then ∪ db1.
        assert_eq!(names("web01,web02^web02,db1"), ["web01", "db1"]);
        assert_eq!(folded("!@web^lb"), "db[1-3]");
    }

    #[test]
    fn caret_inside_brackets_and_regexes() {
        // A glob's `[^…]` class and a regex's anchors are not the operator.
        assert_eq!(folded("web[^0]*&tag:front"), "web10");
        assert_eq!(folded("~^db1$^~^db[12]$"), "db2");
        assert_eq!(folded("~(?i)^DB1$^db[1-2]"), "db2");
        assert_eq!(folded("~^db1|^db2^db2"), "db1");
        assert_eq!(folded("~db1$^db2"), "db[1-2]");
        assert_eq!(folded("~^db[^1]$"), "db[2-3]");
        assert_eq!(folded("~^db\\^?1$"), "db1");
        assert_eq!(folded("~^web(0[1-2]|^x)$,lb"), "lb,web[01-02]");
        assert_eq!(
            parse_err("^web"),
            (1, "empty term before `^` at column 1".into())
        );
        assert_eq!(
            parse_err("web^"),
            (
                5,
                "empty term after `^` at column 5 (the selector ends here)".into()
            )
        );
        assert_eq!(
            parse_err("web,^ "),
            (
                7,
                "empty term after `,^` at column 7 (the selector ends here)".into()
            )
        );
    }

    #[test]
    fn ad_hoc_names_in_union_positions() {
        let inv = inventory();
        let hosts = Selector::parse("new2,web01,new1,new2")
            .unwrap()
            .resolve(&inv)
            .unwrap();
        let got: Vec<(&str, bool)> = hosts
            .iter()
            .map(|h| (h.name.as_str(), h.in_inventory))
            .collect();
        assert_eq!(got, [("web01", true), ("new2", false), ("new1", false)]);
        assert_eq!(hosts[1], Host::ad_hoc("new2"));
        assert_eq!(names("gpu[1-3]"), ["gpu1", "gpu2", "gpu3"]);
        // In & and ! positions names only filter.
        assert_eq!(names("web01&gpu1"), Vec::<String>::new());
        assert_eq!(names("@db!gpu1"), ["db1", "db2", "db3"]);
        assert_eq!(names("gpu[1-3]!gpu2"), ["gpu1", "gpu3"]);
        assert_eq!(names("gpu[1-3]&gpu[2-5]"), ["gpu2", "gpu3"]);
        assert_eq!(names("gpu[1-3]&~[13]$"), ["gpu1", "gpu3"]);
        assert_eq!(names("gpu[1-3]!gpu?"), Vec::<String>::new());
        assert_eq!(names("gpu1,web01&transport:ssh"), ["web01", "gpu1"]);
        assert_eq!(names("gpu1&tag:front"), Vec::<String>::new());
        assert_eq!(names("gpu1&all"), Vec::<String>::new());
        // Globs, regexes and tags never invent hosts.
        assert!(names("gpu*").is_empty());
        assert!(names("~gpu").is_empty());
    }

    #[test]
    fn from_str_and_display() {
        let s: Selector = "web[01-02]&env:prod".parse().unwrap();
        assert_eq!(s.to_string(), "web[01-02]&env:prod");
        assert_eq!(s.as_str(), "web[01-02]&env:prod");
        assert!("web,,db".parse::<Selector>().is_err());
    }

    #[test]
    fn unknown_group_error_renders_with_a_caret() {
        let inv = Inventory::new(vec![
            host("a", "", &[], &["web"], TransportKind::Ssh),
            host("b", "", &[], &["db"], TransportKind::Ssh),
        ]);
        let e = Selector::parse("web[01-20]&@dbx")
            .unwrap()
            .resolve(&inv)
            .unwrap_err();
        assert_eq!(e.column, 12);
        assert_eq!(
            e.to_string(),
            "unknown group `@dbx` at column 12 (known groups: db, web)\n  web[01-20]&@dbx\n             ^"
        );
    }

    #[test]
    fn unknown_group_suggestions() {
        let many: Vec<Host> = (0..12)
            .map(|i| {
                let g = format!("group{i:02}");
                host(&format!("h{i}"), "", &[], &[g.as_str()], TransportKind::Ssh)
            })
            .chain([host("x", "", &[], &["database"], TransportKind::Ssh)])
            .collect();
        let inv = Inventory::new(many);
        let e = Selector::parse("@databse")
            .unwrap()
            .resolve(&inv)
            .unwrap_err();
        assert_eq!(
            e.message,
            "unknown group `@databse` at column 1 (did you mean `@database`?)"
        );
        let e = Selector::parse("x,@zzz")
            .unwrap()
            .resolve(&inv)
            .unwrap_err();
        assert_eq!(e.column, 3);
        assert!(
            e.message.ends_with("(known groups: database, group00, group01, group02, group03, group04, group05, group06, … and 5 more)"),
            "{}",
            e.message
        );
        let e = Selector::parse("@web")
            .unwrap()
            .resolve(&Inventory::default())
            .unwrap_err();
        assert_eq!(
            e.message,
            "unknown group `@web` at column 1 (the inventory defines no groups)"
        );
    }

    #[test]
    fn empty_selector_and_terms() {
        assert_eq!(parse_err(""), (1, "empty selector at column 1".into()));
        assert_eq!(parse_err("   "), (1, "empty selector at column 1".into()));
        assert_eq!(
            parse_err("web,,db"),
            (5, "empty term before `,` at column 5".into())
        );
        assert_eq!(
            parse_err("web&"),
            (
                5,
                "empty term after `&` at column 5 (the selector ends here)".into()
            )
        );
        assert_eq!(
            parse_err("web,"),
            (
                5,
                "empty term after `,` at column 5 (the selector ends here)".into()
            )
        );
        assert_eq!(
            parse_err("web,& "),
            (
                7,
                "empty term after `,&` at column 7 (the selector ends here)".into()
            )
        );
        assert_eq!(
            parse_err("&web"),
            (1, "empty term before `&` at column 1".into())
        );
        assert_eq!(
            parse_err("!!web"),
            (2, "empty term before `!` at column 2".into())
        );
        assert_eq!(
            parse_err("!"),
            (
                2,
                "empty term after `!` at column 2 (the selector ends here)".into()
            )
        );
        assert_eq!(
            parse_err("a&!b"),
            (3, "empty term before `!` at column 3".into())
        );
    }

    #[test]
    fn bad_node_sets_point_into_the_term() {
        assert_eq!(
            parse_err("db1,web[3-1]"),
            (
                9,
                "invalid node set: reversed range `3-1`: the start is greater than the end at column 9"
                    .into()
            )
        );
        assert_eq!(
            parse_err("db1&web[01-"),
            (8, "invalid node set: unclosed `[` at column 8".into())
        );
        assert_eq!(
            parse_err("web[]"),
            (4, "invalid node set: empty `[]` at column 4".into())
        );
        assert_eq!(
            parse_err("é,web[a-b]"),
            (
                7,
                "invalid node set: expected a number, found `a` at column 7".into()
            )
        );
        assert_eq!(
            parse_err("web[1-5/0]"),
            (
                9,
                "invalid node set: step must be at least 1 at column 9".into()
            )
        );
        assert_eq!(
            parse_err("web1]"),
            (5, "invalid node set: unmatched `]` at column 5".into())
        );
        assert_eq!(
            parse_err("x[1-1000000]"),
            (
                1,
                "invalid node set: node set expands to 1000000 names, more than the limit of 100000 at column 1"
                    .into()
            )
        );
    }

    #[test]
    fn bad_regex_and_glob() {
        assert_eq!(
            parse_err("db1,~web("),
            (9, "invalid regex: unclosed group at column 9".into())
        );
        assert_eq!(
            parse_err("~a{2,1}"),
            (
                3,
                "invalid regex: invalid repetition count range, the start must be <= the end at column 3"
                    .into()
            )
        );
        assert_eq!(
            parse_err("~"),
            (2, "empty regex after `~` at column 2".into())
        );
        let (col, msg) = parse_err("a,web[*");
        assert_eq!(col, 3);
        assert!(msg.starts_with("invalid glob: "), "{msg}");
    }

    #[test]
    fn bad_prefixed_terms() {
        assert_eq!(
            parse_err("web&transport:sshh"),
            (
                15,
                "unknown transport `sshh` at column 15 (did you mean `ssh`?)".into()
            )
        );
        assert_eq!(
            parse_err("transport:xyz"),
            (
                11,
                "unknown transport `xyz` at column 11 (expected ssh, agent or local)".into()
            )
        );
        assert_eq!(
            parse_err("transport:"),
            (
                11,
                "empty transport after `transport:` at column 11 (expected ssh, agent or local)"
                    .into()
            )
        );
        assert_eq!(
            parse_err("web,tag:"),
            (9, "empty tag name after `tag:` at column 9".into())
        );
        assert_eq!(
            parse_err("env:&web"),
            (5, "empty environment name after `env:` at column 5".into())
        );
        assert_eq!(
            parse_err("@"),
            (2, "empty group name after `@` at column 2".into())
        );
    }

    #[test]
    fn resolves_large_inventories() {
        let hosts: Vec<Host> = (0..10_000)
            .map(|i| {
                let env = if i % 2 == 0 { "prod" } else { "dev" };
                host(
                    &format!("n{i:05}"),
                    env,
                    &[],
                    &["all-nodes"],
                    TransportKind::Ssh,
                )
            })
            .collect();
        let inv = Inventory::new(hosts);
        let got = Selector::parse("n[00000-09999/3]&env:prod!n00000")
            .unwrap()
            .resolve(&inv)
            .unwrap();
        assert_eq!(
            got.len(),
            (0..10_000).filter(|i| i % 3 == 0 && i % 2 == 0).count() - 1
        );
        assert!(
            Selector::parse("!@all-nodes")
                .unwrap()
                .resolve(&inv)
                .unwrap()
                .is_empty()
        );
        // Ad-hoc names are looked up hashed: 100,000 of them in union and `^` stay linear.
        let got = Selector::parse("x[000001-100000],x[000001-100000]^x[050001-150000]")
            .unwrap()
            .resolve(&inv)
            .unwrap();
        assert_eq!(got.len(), 100_000);
        assert_eq!(got[0].name, "x000001");
        assert_eq!(got[99_999].name, "x150000");
        let candidates = Selector::parse("n[00000-09999/3]&env:prod!stale")
            .unwrap()
            .metric_candidates(&inv)
            .unwrap();
        assert_eq!(candidates.len(), (0..10_000).filter(|i| i % 6 == 0).count());
    }
}
