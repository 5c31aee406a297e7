//! Search in a scrollback: a literal query, smart case (case-insensitive unless the query has
//! an upper-case letter), over the text as shown (escapes already made visible). Matches are
//! found when asked: `n`/`N` scan from the current match, and a frame finds the matches of the
//! lines it draws. Nothing is indexed, so new and dropped lines need no bookkeeping.

use std::fmt;

use regex::{Regex, RegexBuilder};

use super::line::PaneLine;
use super::scrollback::Scrollback;

/// Longest query accepted (a search box, not a document).
pub const MAX_QUERY_CHARS: usize = 512;

/// A match: bytes `start..end` of line `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MatchPos {
    pub seq: u64,
    pub start: usize,
    pub end: usize,
}

/// How a jump to a match went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jump {
    Found,
    /// Found after wrapping around the end (or the start, searching backwards).
    Wrapped,
    NotFound,
    /// No search is active.
    NoQuery,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchError(String);

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SearchError {}

/// An active search.
#[derive(Debug, Clone)]
pub(super) struct Search {
    pub query: String,
    pub regex: Regex,
    pub current: Option<MatchPos>,
}

impl Search {
    pub fn new(query: &str) -> Result<Self, SearchError> {
        Ok(Search {
            query: query.to_string(),
            regex: compile(query)?,
            current: None,
        })
    }
}

fn compile(query: &str) -> Result<Regex, SearchError> {
    let chars = query.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(SearchError(format!(
            "search query is {chars} characters long; the limit is {MAX_QUERY_CHARS}: shorten it"
        )));
    }
    let case_insensitive = !query.chars().any(char::is_uppercase);
    RegexBuilder::new(&regex::escape(query))
        .case_insensitive(case_insensitive)
        .build()
        .map_err(|e| {
            SearchError(format!(
                "search query {query:?} cannot be used ({e}): shorten it"
            ))
        })
}

/// Every match of `query` in the kept lines, in order: for counts ("3 of 17"). It reads the
/// whole buffer, so call it when the query changes, not per frame.
pub fn find_matches(sb: &Scrollback, query: &str) -> Result<Vec<MatchPos>, SearchError> {
    let regex = compile(query)?;
    let first = sb.end_seq() - sb.len() as u64;
    Ok(sb
        .lines()
        .zip(first..)
        .flat_map(|(line, seq)| in_line(&regex, line, seq).collect::<Vec<_>>())
        .collect())
}

/// Matches in one line.
pub(super) fn in_line<'a>(
    regex: &'a Regex,
    line: &'a PaneLine,
    seq: u64,
) -> impl Iterator<Item = MatchPos> + 'a {
    regex.find_iter(line.text()).map(move |m| MatchPos {
        seq,
        start: m.start(),
        end: m.end(),
    })
}

/// The first match starting at or after byte `at` of line `seq`, wrapping around the end.
pub(super) fn next_from(
    sb: &Scrollback,
    regex: &Regex,
    seq: u64,
    at: usize,
) -> Option<(MatchPos, bool)> {
    let first = sb.end_seq() - sb.len() as u64;
    let seq = seq.max(first);
    if let Some(line) = sb.get(seq)
        && at <= line.text().len()
        && line.text().is_char_boundary(at)
        && let Some(m) = regex.find_at(line.text(), at)
    {
        return Some((pos(seq, &m), false));
    }
    let after = (seq + 1..sb.end_seq()).find_map(|s| first_in(sb, regex, s));
    if let Some(m) = after {
        return Some((m, false));
    }
    // Wrapped: from the first line up to and including the starting line.
    (first..=seq.min(sb.end_seq().saturating_sub(1)))
        .find_map(|s| first_in(sb, regex, s))
        .map(|m| (m, true))
}

/// The last match starting before byte `at` of line `seq`, wrapping around the start.
pub(super) fn prev_from(
    sb: &Scrollback,
    regex: &Regex,
    seq: u64,
    at: usize,
) -> Option<(MatchPos, bool)> {
    let first = sb.end_seq() - sb.len() as u64;
    let end = sb.end_seq();
    if seq >= first
        && let Some(line) = sb.get(seq)
        && let Some(m) = in_line(regex, line, seq)
            .take_while(|m| m.start < at)
            .last()
    {
        return Some((m, false));
    }
    let before = (first..seq.min(end))
        .rev()
        .find_map(|s| last_in(sb, regex, s));
    if let Some(m) = before {
        return Some((m, false));
    }
    (seq.max(first)..end)
        .rev()
        .find_map(|s| last_in(sb, regex, s))
        .map(|m| (m, true))
}

fn first_in(sb: &Scrollback, regex: &Regex, seq: u64) -> Option<MatchPos> {
    let line = sb.get(seq)?;
    regex.find(line.text()).map(|m| pos(seq, &m))
}

fn last_in(sb: &Scrollback, regex: &Regex, seq: u64) -> Option<MatchPos> {
    let line = sb.get(seq)?;
    in_line(regex, line, seq).last()
}

fn pos(seq: u64, m: &regex::Match<'_>) -> MatchPos {
    MatchPos {
        seq,
        start: m.start(),
        end: m.end(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Stream;
    use crate::ui::pane::ScrollbackCaps;

    fn sb(text: &str) -> Scrollback {
        let mut sb = Scrollback::new(ScrollbackCaps::default());
        sb.append(Stream::Stdout, text.as_bytes());
        sb
    }

    #[test]
    fn smart_case_and_literal_queries() {
        let sb = sb("Error one\nerror two\nno match\nERROR [x] three\n");
        let all = find_matches(&sb, "error").unwrap();
        assert_eq!(all.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![0, 1, 3]);
        assert_eq!(find_matches(&sb, "Error").unwrap().len(), 1);
        // Regex syntax is literal text.
        assert_eq!(
            find_matches(&sb, "[x]").unwrap(),
            vec![MatchPos {
                seq: 3,
                start: 6,
                end: 9
            }]
        );
        assert!(find_matches(&sb, &"x".repeat(MAX_QUERY_CHARS + 1)).is_err());
    }

    #[test]
    fn next_and_previous_wrap_around() {
        let sb = sb("a x\nb\nx x\nc\n");
        let re = compile("x").unwrap();
        assert_eq!(
            next_from(&sb, &re, 0, 0),
            Some((
                MatchPos {
                    seq: 0,
                    start: 2,
                    end: 3
                },
                false
            ))
        );
        assert_eq!(
            next_from(&sb, &re, 0, 3),
            Some((
                MatchPos {
                    seq: 2,
                    start: 0,
                    end: 1
                },
                false
            ))
        );
        assert_eq!(
            next_from(&sb, &re, 2, 1),
            Some((
                MatchPos {
                    seq: 2,
                    start: 2,
                    end: 3
                },
                false
            ))
        );
        assert_eq!(
            next_from(&sb, &re, 2, 3),
            Some((
                MatchPos {
                    seq: 0,
                    start: 2,
                    end: 3
                },
                true
            ))
        );
        assert_eq!(
            prev_from(&sb, &re, 2, 2),
            Some((
                MatchPos {
                    seq: 2,
                    start: 0,
                    end: 1
                },
                false
            ))
        );
        assert_eq!(
            prev_from(&sb, &re, 2, 0),
            Some((
                MatchPos {
                    seq: 0,
                    start: 2,
                    end: 3
                },
                false
            ))
        );
        assert_eq!(
            prev_from(&sb, &re, 0, 2),
            Some((
                MatchPos {
                    seq: 2,
                    start: 2,
                    end: 3
                },
                true
            ))
        );
        let none = compile("zzz").unwrap();
        assert_eq!(next_from(&sb, &none, 0, 0), None);
        assert_eq!(prev_from(&sb, &none, 3, 0), None);
    }
}
