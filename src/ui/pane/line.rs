//! One stored pane line: sanitized text plus its colour runs, parsed once when it arrives so a
//! frame only slices what it shows.

use ratatui::style::Style;

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {
    Stdout,
    Stderr,
    /// fleetdeck's own note inside the output (output dropped by the engine).
    Marker,
}

/// A stretch of a line's text in one style, ending at byte `end`; it starts where the previous
/// run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Run {
    pub end: u32,
    pub style: Style,
    /// A control character shown visibly (`^[`): drawn in the marker style, so the reader can
    /// tell a neutralised escape from text that happens to read `^[`.
    pub control: bool,
}

/// A complete line: printable text only (controls made visible, tabs expanded), never a `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PaneLine {
    text: Box<str>,
    /// Empty for a line in the default style (most lines), which saves the allocation.
    runs: Box<[Run]>,
    kind: LineKind,
    /// Index of the host in a merged stream; 0 in a single host's pane.
    host: u32,
}

impl PaneLine {
    pub(super) fn new(text: String, runs: Vec<Run>, kind: LineKind, host: u32) -> Self {
        let plain = runs
            .iter()
            .all(|r| r.style == Style::default() && !r.control);
        PaneLine {
            text: text.into_boxed_str(),
            runs: if plain {
                Box::default()
            } else {
                runs.into_boxed_slice()
            },
            kind,
            host,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn kind(&self) -> LineKind {
        self.kind
    }

    pub fn host(&self) -> usize {
        self.host as usize
    }

    /// Bytes this line holds, counted against the scrollback's byte cap (its slot included).
    pub(super) fn cost(&self) -> usize {
        std::mem::size_of::<Self>() + self.text.len() + self.runs.len() * std::mem::size_of::<Run>()
    }

    /// The runs overlapping `range`, each clipped to it: `(start, end, style, control)`.
    pub(super) fn runs_in(
        &self,
        range: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (usize, usize, Style, bool)> + '_ {
        // Runs are sorted by end: skip those ending before the range (binary search, so a
        // 64 KiB line of many colours costs only what is shown).
        let first = self
            .runs
            .partition_point(|r| (r.end as usize) <= range.start);
        let mut start = if first == 0 {
            0
        } else {
            self.runs[first - 1].end as usize
        };
        let plain =
            self.runs
                .is_empty()
                .then_some((range.start, range.end, Style::default(), false));
        let styled = self.runs[first..].iter().map_while(move |r| {
            let (s, e) = (start.max(range.start), (r.end as usize).min(range.end));
            start = r.end as usize;
            (s < range.end).then_some((s, e, r.style, r.control))
        });
        plain.into_iter().chain(styled)
    }
}
