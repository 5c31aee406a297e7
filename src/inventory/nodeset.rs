//! Node sets (ClusterShell-style): expansion and folding.
//!
//! A node set is a comma-separated list of names; each name is literal text with any number of
//! bracket groups holding numeric ranges:
//!
//! - `web[01-20,30]`: ranges and single numbers, separated by `,` inside the brackets;
//! - `node[1-9/2]`: a range with a step (`1,3,5,7,9`);
//! - `rack[1-2]-n[01-03]`: several groups give the cartesian product, the leftmost group
//!   varying slowest (`rack1-n01, rack1-n02, …, rack2-n03`);
//! - `a,b[1-2]`: a list at the top level (`a, b1, b2`).
//!
//! Zero padding is kept: the width of a range is the width of its lower bound as written, so
//! `[08-10]` gives `08 09 10` and `[8-10]` gives `8 9 10`. Names come out in the order written,
//! duplicates removed (the first occurrence stays).
//!
//! [`fold`] goes the other way and turns a list of names back into the most compact set string
//! (`web01,web02,web03,web07` → `web[01-03,07]`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

/// The largest number of names a node set may expand to. A pattern that would produce more
/// (counted before duplicates are removed) is refused with an error instead of allocating
/// them: `web[1-1000000]` is almost certainly a typo, and would otherwise take a lot of memory.
pub const MAX_EXPANSION: usize = 100_000;

/// Why a node set pattern is invalid, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NodeSetError {
    /// Byte offset in the pattern where the problem is.
    pub offset: usize,
    pub message: String,
}

impl NodeSetError {
    fn new(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}

/// Expands a node set pattern into its names, in the order written, without duplicates.
///
/// ```
/// use fleetdeck::inventory::nodeset::expand;
/// assert_eq!(expand("web[08-10],db").unwrap(), ["web08", "web09", "web10", "db"]);
/// ```
pub fn expand(pattern: &str) -> Result<Vec<String>, NodeSetError> {
    let terms = parse(pattern)?;
    let total = checked_total(&terms)?;
    let mut out = Vec::with_capacity(total);
    // Duplicates are only possible with several names, overlapping ranges, or neighbouring
    // groups whose values differ in length; skip the hashing in the common case.
    let dedup = terms.len() > 1 || !terms[0].duplicate_free();
    let mut seen = HashSet::new();
    for term in &terms {
        term.for_each_name(|name| {
            if !dedup || seen.insert(name.to_string()) {
                out.push(name.to_string());
            }
        });
    }
    Ok(out)
}

/// The number of names [`expand`] returns for `pattern`, computed from the ranges without
/// building the names (except when duplicates are possible: then the names are generated and
/// counted, still refusing more than [`MAX_EXPANSION`]).
pub fn count(pattern: &str) -> Result<usize, NodeSetError> {
    let terms = parse(pattern)?;
    let total = checked_total(&terms)?;
    if terms.len() == 1 && terms[0].duplicate_free() {
        return Ok(total);
    }
    let mut seen = HashSet::with_capacity(total);
    for term in &terms {
        term.for_each_name(|name| {
            if !seen.contains(name) {
                seen.insert(name.to_string());
            }
        });
    }
    Ok(seen.len())
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// `lo-hi/step` inside brackets; a single number has `lo == hi`, `step == 1`.
#[derive(Debug, Clone, Copy)]
struct Range {
    lo: u64,
    hi: u64,
    step: u64,
    /// Zero-padding width: the number of digits the lower bound was written with.
    width: usize,
}

impl Range {
    /// The number of values (a `u128`: `[0-18446744073709551615]` has 2^64 of them).
    fn len(&self) -> u128 {
        u128::from((self.hi - self.lo) / self.step) + 1
    }

    /// The length of the rendered lower and upper values.
    fn rendered_lengths(&self) -> (usize, usize) {
        (
            self.width.max(digits(self.lo)),
            self.width.max(digits(self.hi)),
        )
    }
}

#[derive(Debug)]
enum Part<'a> {
    Lit(&'a str),
    Set(Vec<Range>),
}

/// One name of the top-level list.
#[derive(Debug)]
struct Term<'a> {
    offset: usize,
    parts: Vec<Part<'a>>,
}

impl Term<'_> {
    /// The number of names this term generates, duplicates included; `None` on overflow.
    fn raw_count(&self) -> Option<u128> {
        let mut n: u128 = 1;
        for part in &self.parts {
            if let Part::Set(ranges) = part {
                let mut sum: u128 = 0;
                for r in ranges {
                    sum = sum.checked_add(r.len())?;
                }
                n = n.checked_mul(sum)?;
            }
        }
        Some(n)
    }

    /// True when the term cannot generate the same name twice: ranges of a group do not
    /// overlap, and at most one group has values of different rendered lengths (with fixed
    /// lengths everywhere else, every name splits back into its values in only one way).
    fn duplicate_free(&self) -> bool {
        let mut variable_groups = 0;
        for part in &self.parts {
            let Part::Set(ranges) = part else { continue };
            let mut spans: Vec<(u64, u64)> = ranges.iter().map(|r| (r.lo, r.hi)).collect();
            spans.sort_unstable();
            if spans.windows(2).any(|w| w[1].0 <= w[0].1) {
                return false;
            }
            let (first, _) = ranges[0].rendered_lengths();
            let fixed = ranges.iter().all(|r| {
                let (a, b) = r.rendered_lengths();
                a == first && b == first
            });
            if !fixed {
                variable_groups += 1;
            }
        }
        variable_groups <= 1
    }

    /// Calls `f` with every name of the term, leftmost group varying slowest. The caller has
    /// checked the count, so every group fits in memory.
    fn for_each_name(&self, mut f: impl FnMut(&str)) {
        let rendered: Vec<Vec<String>> = self
            .parts
            .iter()
            .map(|part| match part {
                Part::Lit(s) => vec![(*s).to_string()],
                Part::Set(ranges) => ranges
                    .iter()
                    .flat_map(|r| {
                        // The caller checked the count, so it fits in a u64.
                        (0..r.len() as u64).map(move |k| pad(r.lo + k * r.step, r.width))
                    })
                    .collect(),
            })
            .collect();
        let mut buf = String::new();
        product(&rendered, &mut buf, &mut f);
    }
}

fn product(parts: &[Vec<String>], buf: &mut String, f: &mut impl FnMut(&str)) {
    let Some((first, rest)) = parts.split_first() else {
        f(buf);
        return;
    };
    let len = buf.len();
    for s in first {
        buf.push_str(s);
        product(rest, buf, f);
        buf.truncate(len);
    }
}

fn pad(value: u64, width: usize) -> String {
    format!("{value:0width$}")
}

fn digits(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// The total number of names, refusing more than [`MAX_EXPANSION`].
fn checked_total(terms: &[Term<'_>]) -> Result<usize, NodeSetError> {
    let mut total: u128 = 0;
    for term in terms {
        let n = term.raw_count();
        total = match n.and_then(|n| total.checked_add(n)) {
            Some(t) if t <= MAX_EXPANSION as u128 => t,
            Some(t) => {
                return Err(NodeSetError::new(
                    term.offset,
                    format!(
                        "node set expands to {t} names, more than the limit of {MAX_EXPANSION}"
                    ),
                ));
            }
            None => {
                return Err(NodeSetError::new(
                    term.offset,
                    format!("node set expands to more than the limit of {MAX_EXPANSION} names"),
                ));
            }
        };
    }
    Ok(total as usize)
}

fn parse(pattern: &str) -> Result<Vec<Term<'_>>, NodeSetError> {
    if pattern.is_empty() {
        return Err(NodeSetError::new(0, "empty node set"));
    }
    let b = pattern.as_bytes();
    let mut terms = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        let mut parts = Vec::new();
        let mut lit_start = i;
        while i < b.len() && b[i] != b',' {
            match b[i] {
                b'[' => {
                    if lit_start < i {
                        parts.push(Part::Lit(&pattern[lit_start..i]));
                    }
                    let (ranges, next) = parse_group(pattern, i)?;
                    parts.push(Part::Set(ranges));
                    i = next;
                    lit_start = i;
                }
                b']' => return Err(NodeSetError::new(i, "unmatched `]`")),
                c if c.is_ascii_whitespace() => {
                    return Err(NodeSetError::new(
                        i,
                        "whitespace is not allowed in a node name",
                    ));
                }
                _ => i += 1,
            }
        }
        if lit_start < i {
            parts.push(Part::Lit(&pattern[lit_start..i]));
        }
        if parts.is_empty() {
            let msg = if start == 0 {
                "empty name before `,`"
            } else if start == b.len() {
                "empty name after the last `,`"
            } else {
                "empty name between two `,`"
            };
            return Err(NodeSetError::new(start, msg));
        }
        terms.push(Term {
            offset: start,
            parts,
        });
        if i == b.len() {
            return Ok(terms);
        }
        i += 1; // the comma
    }
}

/// Parses `[...]` starting at `open`; returns the ranges and the offset after the `]`.
fn parse_group(pattern: &str, open: usize) -> Result<(Vec<Range>, usize), NodeSetError> {
    let b = pattern.as_bytes();
    let mut ranges = Vec::new();
    let mut i = open + 1;
    loop {
        match b.get(i) {
            None => return Err(unclosed(open)),
            Some(b']') if ranges.is_empty() => {
                return Err(NodeSetError::new(open, "empty `[]`"));
            }
            Some(b']') => return Err(NodeSetError::new(i, "empty range before `]`")),
            Some(b',') => return Err(NodeSetError::new(i, "empty range before `,`")),
            _ => {}
        }
        let lo_at = i;
        let (lo, width, next) = number(pattern, open, i)?;
        i = next;
        let mut hi = lo;
        let mut step = 1;
        let mut ranged = false;
        if b.get(i) == Some(&b'-') {
            let (h, _, next) = number(pattern, open, i + 1)?;
            hi = h;
            ranged = true;
            i = next;
        }
        if b.get(i) == Some(&b'/') {
            if !ranged {
                return Err(NodeSetError::new(
                    i,
                    "a step `/N` needs a range, like `1-9/2`",
                ));
            }
            let step_at = i + 1;
            let (s, _, next) = number(pattern, open, step_at)?;
            if s == 0 {
                return Err(NodeSetError::new(step_at, "step must be at least 1"));
            }
            step = s;
            i = next;
        }
        if hi < lo {
            return Err(NodeSetError::new(
                lo_at,
                format!("reversed range `{lo}-{hi}`: the start is greater than the end"),
            ));
        }
        ranges.push(Range {
            lo,
            hi,
            step,
            width,
        });
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b']') => return Ok((ranges, i + 1)),
            Some(b'[') => return Err(nested(i)),
            None => return Err(unclosed(open)),
            Some(_) => {
                return Err(NodeSetError::new(
                    i,
                    format!("unexpected `{}` in a range", char_at(pattern, i)),
                ));
            }
        }
    }
}

/// A decimal number at `at`: its value, its width as written, and the offset after it.
fn number(pattern: &str, open: usize, at: usize) -> Result<(u64, usize, usize), NodeSetError> {
    let b = pattern.as_bytes();
    match b.get(at) {
        None => return Err(unclosed(open)),
        Some(b'[') => return Err(nested(at)),
        Some(c) if !c.is_ascii_digit() => {
            return Err(NodeSetError::new(
                at,
                format!("expected a number, found `{}`", char_at(pattern, at)),
            ));
        }
        Some(_) => {}
    }
    let end = b[at..]
        .iter()
        .position(|c| !c.is_ascii_digit())
        .map_or(b.len(), |n| at + n);
    let text = &pattern[at..end];
    let value = text
        .parse::<u64>()
        .map_err(|_| NodeSetError::new(at, format!("number `{text}` is too large")))?;
    Ok((value, end - at, end))
}

fn unclosed(open: usize) -> NodeSetError {
    NodeSetError::new(open, "unclosed `[`")
}

fn nested(at: usize) -> NodeSetError {
    NodeSetError::new(at, "nested `[` inside a range")
}

fn char_at(s: &str, at: usize) -> char {
    s[at..].chars().next().unwrap_or(' ')
}

// ---------------------------------------------------------------------------------------------
// Folding

/// Folds names into the most compact node set string, the inverse of [`expand`]:
/// `web01,web02,web03,web07` → `web[01-03,07]`.
///
/// Names are grouped by the text around their last run of digits; numbers are folded into
/// ranges keeping their padding (`web1` and `web01` are different names, `web[1,01]`). Then the
/// same is tried on the previous run of digits, so `rack1-n01 … rack2-n03` folds to
/// `rack[1-2]-n[01-03]`. Names without digits stay as they are. The parts are sorted by name,
/// numbers compared numerically, and joined by `,`; duplicates and empty names are ignored, so
/// the result depends only on the set of names. No input gives an empty string.
///
/// Names containing `[`, `]`, `,` or whitespace cannot be written as a node set; they are
/// passed through unchanged (and [`expand`] will refuse the result).
pub fn fold<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut names: Vec<&str> = names.into_iter().filter(|n| !n.is_empty()).collect();
    names.sort_unstable();
    names.dedup();

    struct Item {
        /// Text not folded yet; its last digit run is the next candidate.
        head: String,
        /// Already rendered text that follows `head`.
        rest: String,
        /// The first of the names this item stands for, in natural order (for sorting).
        first: String,
    }
    /// Names sharing the text around a number: their numbers (value, written length) and
    /// the first of their names.
    struct Group {
        numbers: Vec<(u64, usize)>,
        first: String,
    }

    let mut items: Vec<Item> = names
        .into_iter()
        .map(|n| Item {
            head: n.to_string(),
            rest: String::new(),
            first: n.to_string(),
        })
        .collect();
    let mut done: Vec<Item> = Vec::new();

    while !items.is_empty() {
        // Keyed by (text before the number, text after it).
        let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
        for item in items.drain(..) {
            match split_last_number(&item.head) {
                Some((before, value, len, after)) => {
                    let key = (before.to_string(), format!("{after}{}", item.rest));
                    let group = groups.entry(key).or_insert_with(|| Group {
                        numbers: Vec::new(),
                        first: item.first.clone(),
                    });
                    group.numbers.push((value, len));
                    if natural_cmp(&item.first, &group.first) == Ordering::Less {
                        group.first = item.first;
                    }
                }
                None => done.push(Item {
                    head: String::new(),
                    rest: item.head + &item.rest,
                    first: item.first,
                }),
            }
        }
        for ((before, after), Group { mut numbers, first }) in groups {
            numbers.sort_unstable();
            numbers.dedup();
            items.push(Item {
                head: before,
                rest: render_numbers(&numbers) + &after,
                first,
            });
        }
    }

    done.sort_by(|a, b| natural_cmp(&a.first, &b.first).then_with(|| a.rest.cmp(&b.rest)));
    done.iter()
        .map(|i| i.rest.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Splits `s` around its last run of ASCII digits: (before, value, digit count, after).
/// `None` when there are no digits or the number does not fit in a `u64` (then the name is
/// left as it is).
fn split_last_number(s: &str) -> Option<(&str, u64, usize, &str)> {
    let b = s.as_bytes();
    let end = b.iter().rposition(u8::is_ascii_digit)? + 1;
    let start = b[..end]
        .iter()
        .rposition(|c| !c.is_ascii_digit())
        .map_or(0, |p| p + 1);
    let value = s[start..end].parse().ok()?;
    Some((&s[..start], value, end - start, &s[end..]))
}

/// Renders distinct numbers (value, written length), sorted, as `07` or `[01-03,07]`.
fn render_numbers(numbers: &[(u64, usize)]) -> String {
    if let [(value, len)] = numbers {
        return pad(*value, *len);
    }
    // Assign every number to a padding class so that consecutive values of one class form a
    // range whose lower bound's width renders all of them right: a zero-padded number belongs
    // to the class of its width; an unpadded one joins the class of its predecessor when that
    // class pads no wider than its own length (`09,10` → `09-10`), else starts its own.
    let mut classed: Vec<(usize, u64, usize)> = Vec::with_capacity(numbers.len());
    let mut prev_value: Option<u64> = None;
    let mut prev_classes: Vec<usize> = Vec::new();
    let mut cur_classes: Vec<usize> = Vec::new();
    for &(value, len) in numbers {
        if prev_value != Some(value) {
            if prev_value.and_then(|p| p.checked_add(1)) == Some(value) {
                prev_classes = std::mem::take(&mut cur_classes);
            } else {
                prev_classes.clear();
                cur_classes.clear();
            }
            prev_value = Some(value);
        }
        let class = if len > digits(value) {
            len
        } else {
            prev_classes
                .iter()
                .copied()
                .filter(|&c| c <= len)
                .max()
                .unwrap_or(len)
        };
        cur_classes.push(class);
        classed.push((class, value, len));
    }
    classed.sort_unstable();

    // Runs of consecutive values within a class: (lo, lo length, hi, hi length).
    let mut runs: Vec<(u64, usize, u64, usize)> = Vec::new();
    let mut last_class = None;
    for &(class, value, len) in &classed {
        match runs.last_mut() {
            Some(run) if last_class == Some(class) && run.2.checked_add(1) == Some(value) => {
                run.2 = value;
                run.3 = len;
            }
            _ => runs.push((value, len, value, len)),
        }
        last_class = Some(class);
    }
    runs.sort_unstable_by_key(|&(lo, lo_len, _, _)| (lo, lo_len));

    let items: Vec<String> = runs
        .iter()
        .map(|&(lo, lo_len, hi, hi_len)| {
            if lo == hi {
                pad(lo, lo_len)
            } else {
                format!("{}-{}", pad(lo, lo_len), pad(hi, hi_len))
            }
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// Compares names with runs of digits compared as numbers (`web9` < `web10`), a shorter
/// writing of the same number first (`web1` < `web01`), and plain byte order otherwise.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let xl = x
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .unwrap_or(x.len());
                let yl = y
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .unwrap_or(y.len());
                let (xn, yn) = (&x[..xl], &y[..yl]);
                let xt = trim_zeros(xn);
                let yt = trim_zeros(yn);
                let ord = xt
                    .len()
                    .cmp(&yt.len())
                    .then_with(|| xt.cmp(yt))
                    .then_with(|| xn.len().cmp(&yn.len()));
                if ord != Ordering::Equal {
                    return ord;
                }
                x = &x[xl..];
                y = &y[yl..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().position(|&c| c != b'0').unwrap_or(s.len());
    &s[n..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ex(p: &str) -> Vec<String> {
        expand(p).unwrap_or_else(|e| panic!("{p}: {e} at {}", e.offset))
    }

    fn err(p: &str) -> (usize, String) {
        let e = expand(p).expect_err(p);
        (e.offset, e.message)
    }

    #[test]
    fn expands_ranges_and_lists() {
        assert_eq!(ex("web[01-03,07]"), ["web01", "web02", "web03", "web07"]);
        assert_eq!(ex("web[01-20,30]").len(), 21);
        assert_eq!(ex("web[01-20,30]").last().unwrap(), "web30");
        assert_eq!(
            ex("node[1-9/2]"),
            ["node1", "node3", "node5", "node7", "node9"]
        );
        assert_eq!(ex("node[0-10/5]"), ["node0", "node5", "node10"]);
        assert_eq!(
            ex("rack[1-2]-n[01-03]"),
            [
                "rack1-n01",
                "rack1-n02",
                "rack1-n03",
                "rack2-n01",
                "rack2-n02",
                "rack2-n03"
            ]
        );
        assert_eq!(ex("a,b[1-2]"), ["a", "b1", "b2"]);
        assert_eq!(ex("web01"), ["web01"]);
        assert_eq!(ex("[1-2]x"), ["1x", "2x"]);
        assert_eq!(ex("10.0.1.[1-3]"), ["10.0.1.1", "10.0.1.2", "10.0.1.3"]);
    }

    #[test]
    fn padding_comes_from_the_lower_bound() {
        assert_eq!(ex("[08-10]"), ["08", "09", "10"]);
        assert_eq!(ex("[8-10]"), ["8", "9", "10"]);
        assert_eq!(ex("n[001-002,7]"), ["n001", "n002", "n7"]);
        assert_eq!(ex("n[1,01]"), ["n1", "n01"]);
    }

    #[test]
    fn duplicates_removed_keeping_the_first() {
        assert_eq!(ex("b,a,b"), ["b", "a"]);
        assert_eq!(ex("n[3,1-3]"), ["n3", "n1", "n2"]);
        assert_eq!(ex("n2,n[1-3]"), ["n2", "n1", "n3"]);
        assert_eq!(ex("a[1,11][1,11]"), ["a11", "a111", "a1111"]);
    }

    #[test]
    fn counts_without_expanding() {
        assert_eq!(count("web[01-20,30]").unwrap(), 21);
        assert_eq!(count("rack[1-2]-n[01-03]").unwrap(), 6);
        assert_eq!(count("node[1-9/2]").unwrap(), 5);
        assert_eq!(count("n[1-3],n2").unwrap(), 3);
        assert_eq!(count("a[1,11][1,11]").unwrap(), 3);
        assert_eq!(count("n[1-100000]").unwrap(), 100_000);
        for p in ["web[3-1]", "x[1-100001]"] {
            assert_eq!(count(p).unwrap_err(), expand(p).unwrap_err());
        }
    }

    #[test]
    fn reversed_range() {
        assert_eq!(
            err("web[3-1]"),
            (
                4,
                "reversed range `3-1`: the start is greater than the end".into()
            )
        );
        assert_eq!(err("web[1,5-2]").0, 6);
    }

    #[test]
    fn unclosed_bracket() {
        assert_eq!(err("web[01-"), (3, "unclosed `[`".into()));
        assert_eq!(err("web[01"), (3, "unclosed `[`".into()));
        assert_eq!(err("a,web[1,"), (5, "unclosed `[`".into()));
    }

    #[test]
    fn empty_brackets_and_ranges() {
        assert_eq!(err("web[]"), (3, "empty `[]`".into()));
        assert_eq!(err("web[1,]"), (6, "empty range before `]`".into()));
        assert_eq!(err("web[1,,2]"), (6, "empty range before `,`".into()));
    }

    #[test]
    fn not_a_number() {
        assert_eq!(err("web[a-b]"), (4, "expected a number, found `a`".into()));
        assert_eq!(err("web[1-b]"), (6, "expected a number, found `b`".into()));
        assert_eq!(err("web[1-]"), (6, "expected a number, found `]`".into()));
        assert_eq!(err("web[-1]"), (4, "expected a number, found `-`".into()));
        assert_eq!(err("web[1x]"), (5, "unexpected `x` in a range".into()));
        assert_eq!(err("web[é]"), (4, "expected a number, found `é`".into()));
    }

    #[test]
    fn zero_step() {
        assert_eq!(err("web[1-5/0]"), (8, "step must be at least 1".into()));
        assert_eq!(
            err("web[1/2]"),
            (5, "a step `/N` needs a range, like `1-9/2`".into())
        );
    }

    #[test]
    fn nested_and_stray_brackets() {
        assert_eq!(err("web[1[2]]"), (5, "nested `[` inside a range".into()));
        assert_eq!(err("web[[1]]"), (4, "nested `[` inside a range".into()));
        assert_eq!(err("web1]"), (4, "unmatched `]`".into()));
        assert_eq!(err("web[1]]"), (6, "unmatched `]`".into()));
    }

    #[test]
    fn empty_names() {
        assert_eq!(err(""), (0, "empty node set".into()));
        assert_eq!(err("a,,b"), (2, "empty name between two `,`".into()));
        assert_eq!(err(",a"), (0, "empty name before `,`".into()));
        assert_eq!(err("a,"), (2, "empty name after the last `,`".into()));
        assert_eq!(
            err("a b"),
            (1, "whitespace is not allowed in a node name".into())
        );
    }

    #[test]
    fn overflow() {
        assert_eq!(
            err("n[99999999999999999999]"),
            (2, "number `99999999999999999999` is too large".into())
        );
        assert_eq!(
            err("n[0-18446744073709551615][0-18446744073709551615][0-18446744073709551615]"),
            (
                0,
                "node set expands to more than the limit of 100000 names".into()
            )
        );
        // The largest u64 still works, and the step does not overflow past it.
        assert_eq!(
            ex("n[18446744073709551614-18446744073709551615/7]"),
            ["n18446744073709551614"]
        );
    }

    #[test]
    fn expansion_limit() {
        assert_eq!(ex("n[1-100000]").len(), MAX_EXPANSION);
        assert_eq!(
            err("n[1-100001]"),
            (
                0,
                "node set expands to 100001 names, more than the limit of 100000".into()
            )
        );
        assert_eq!(
            err("a,n[1-1000][1-1000]"),
            (
                2,
                "node set expands to 1000001 names, more than the limit of 100000".into()
            )
        );
    }

    #[test]
    fn folds_examples() {
        assert_eq!(fold(["web01", "web02", "web03", "web07"]), "web[01-03,07]");
        assert_eq!(fold(["web07", "web01", "web03", "web02"]), "web[01-03,07]");
        assert_eq!(fold(Vec::<&str>::new()), "");
        assert_eq!(fold(["web01"]), "web01");
        assert_eq!(fold(["web1", "web01"]), "web[1,01]");
        assert_eq!(fold(["db", "api", "web2", "web1"]), "api,db,web[1-2]");
        assert_eq!(fold(["web10", "web9", "db1"]), "db1,web[9-10]");
        assert_eq!(fold(["n08", "n09", "n10", "n11"]), "n[08-11]");
        assert_eq!(fold(["n1", "n01", "n2", "n02"]), "n[1-2,01-02]");
        assert_eq!(fold(["a1.lan", "a2.lan", "a3.lan"]), "a[1-3].lan");
        assert_eq!(fold(["a", "a", "a"]), "a");
    }

    #[test]
    fn folds_several_dimensions() {
        let names = ex("rack[1-2]-n[01-03]");
        assert_eq!(fold(names.iter().map(String::as_str)), "rack[1-2]-n[01-03]");
        assert_eq!(fold(["rack1-n01", "rack2-n01"]), "rack[1-2]-n01");
        assert_eq!(
            fold(["rack1-n01", "rack1-n02", "rack2-n01"]),
            "rack1-n[01-02],rack2-n01"
        );
        assert_eq!(fold(["r9-n1", "r10-n1"]), "r[9-10]-n1");
    }

    #[test]
    fn fold_sorts_numerically() {
        assert_eq!(
            fold(["rack10-n1", "rack10-n2", "rack2-n1", "rack2-n5"]),
            "rack2-n[1,5],rack10-n[1-2]"
        );
    }

    fn sorted_dedup(names: &[String]) -> Vec<String> {
        let mut v = names.to_vec();
        v.sort();
        v.dedup();
        v
    }

    fn name_strategy() -> impl Strategy<Value = String> {
        let prefixes = prop::sample::select(vec!["web", "db-", "rack1-n", "r2d", "", "x.y"]);
        let suffixes = prop::sample::select(vec!["", "", ".lan", "-a"]);
        (prefixes, 0u64..300, 0usize..4, suffixes, any::<bool>()).prop_map(|(p, v, w, s, two)| {
            if two {
                // a second dimension
                format!("{p}{v:0w$}-n{:02}{s}", v % 3)
            } else {
                format!("{p}{v:0w$}{s}")
            }
        })
    }

    proptest! {
        #[test]
        fn fold_then_expand_gives_the_names(names in prop::collection::vec(name_strategy(), 1..60)) {
            let folded = fold(names.iter().map(String::as_str));
            let expanded = expand(&folded).map_err(|e| TestCaseError::fail(format!("{folded}: {e}")))?;
            prop_assert_eq!(sorted_dedup(&expanded), sorted_dedup(&names), "folded: {}", folded);
            prop_assert_eq!(expanded.len(), sorted_dedup(&names).len());
            prop_assert_eq!(count(&folded).unwrap(), expanded.len());
        }

        #[test]
        fn fold_is_idempotent(names in prop::collection::vec(name_strategy(), 1..60)) {
            let folded = fold(names.iter().map(String::as_str));
            let again = fold(expand(&folded).unwrap().iter().map(String::as_str));
            prop_assert_eq!(again, folded);
        }

        #[test]
        fn expand_then_fold_is_stable(
            lo in 0u64..120, len in 1u64..50, step in 1u64..4, w in 0usize..4,
            lo2 in 0u64..5, len2 in 1u64..4,
        ) {
            let pattern = format!("n[{lo:0w$}-{}/{step}]-m[{lo2}-{}]", lo + len, lo2 + len2);
            let names = expand(&pattern).unwrap();
            prop_assert_eq!(count(&pattern).unwrap(), names.len());
            let folded = fold(names.iter().map(String::as_str));
            let back = expand(&folded).unwrap();
            prop_assert_eq!(sorted_dedup(&back), sorted_dedup(&names));
            prop_assert_eq!(fold(back.iter().map(String::as_str)), folded);
        }
    }
}
