//! The Incidents view's state: the newest frame from the session, how it is grouped and
//! filtered, the rows that makes (group headings and incidents), the cursor (kept on the same
//! incident across frames) and the incident opened. Plain data, no I/O.

use std::sync::Arc;

use crate::engine::IncidentsFrame;
use crate::incident::Incident;
use crate::inventory::nodeset::fold;
use crate::ui::app::text_input::TextInput;

/// What rows are grouped by (`s` cycles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    #[default]
    Title,
    Source,
    Host,
}

impl Grouping {
    pub fn next(self) -> Grouping {
        match self {
            Grouping::Title => Grouping::Source,
            Grouping::Source => Grouping::Host,
            Grouping::Host => Grouping::Title,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Grouping::Title => "title",
            Grouping::Source => "source",
            Grouping::Host => "host",
        }
    }

    /// The group `incident` belongs to.
    pub fn key(self, incident: &Incident) -> String {
        match self {
            Grouping::Title => incident.title.clone(),
            Grouping::Source => incident.source.as_str().to_string(),
            Grouping::Host => fold(incident.hosts.iter().map(String::as_str)),
        }
    }
}

/// One row of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A group's heading: its name and how many incidents it holds.
    Group { name: String, count: usize },
    /// The frame's incident at this index.
    Incident(usize),
}

/// See the module doc.
#[derive(Debug, Default)]
pub struct IncidentsState {
    pub frame: Arc<IncidentsFrame>,
    pub grouping: Grouping,
    pub filter: TextInput,
    /// The rows shown, headings included.
    pub entries: Vec<Entry>,
    /// Index into the incidents shown (headings are skipped).
    pub cursor: usize,
    /// The incident opened (enter), by id.
    pub open: Option<String>,
    /// runbooks.toml as read when the console started (matching is pure, done when drawn).
    pub runbooks: Arc<crate::incident::runbook::Runbooks>,
    /// Runs started from a runbook (`x`) and the incidents each is a fix for: when one ends,
    /// how it ended is written on their timelines.
    pub fixes: std::collections::BTreeMap<crate::engine::RunId, Vec<String>>,
    /// The `[notify]` sinks' delivery records (a failing one is shown under the list).
    pub notify: Vec<crate::incident::notify::SinkStatus>,
}

impl IncidentsState {
    /// Takes a new frame, keeping the cursor on the incident it was on.
    pub fn set_frame(&mut self, frame: Arc<IncidentsFrame>) {
        let keep = self.selected().map(|i| i.id.clone());
        self.frame = frame;
        self.rebuild(keep.as_deref());
    }

    /// Rebuilds the rows (filter or grouping changed), the cursor on `keep` if still shown.
    pub fn rebuild(&mut self, keep: Option<&str>) {
        let needle = self.filter.text().to_lowercase();
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, incident) in self.frame.incidents.iter().enumerate() {
            if !needle.is_empty() && !matches(incident, &needle) {
                continue;
            }
            let key = self.grouping.key(incident);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(i),
                None => groups.push((key, vec![i])),
            }
        }
        self.entries = groups
            .into_iter()
            .flat_map(|(name, members)| {
                let head = Entry::Group {
                    name,
                    count: members.len(),
                };
                std::iter::once(head).chain(members.into_iter().map(Entry::Incident))
            })
            .collect();
        let shown = self.shown_count();
        self.cursor = keep
            .and_then(|id| {
                self.shown_incidents()
                    .position(|i| self.frame.incidents.get(i).is_some_and(|x| x.id == id))
            })
            .unwrap_or(self.cursor)
            .min(shown.saturating_sub(1));
        if let Some(open) = &self.open
            && !self.frame.incidents.iter().any(|i| &i.id == open)
        {
            self.open = None;
        }
    }

    /// Frame indices of the incidents shown, in row order.
    pub fn shown_incidents(&self) -> impl Iterator<Item = usize> + '_ {
        self.entries.iter().filter_map(|e| match e {
            Entry::Incident(i) => Some(*i),
            Entry::Group { .. } => None,
        })
    }

    pub fn shown_count(&self) -> usize {
        self.shown_incidents().count()
    }

    /// The incident under the cursor.
    pub fn selected(&self) -> Option<&Incident> {
        let i = self.shown_incidents().nth(self.cursor)?;
        self.frame.incidents.get(i)
    }

    /// The row (headings counted) the cursor is on, for drawing.
    pub fn cursor_row(&self) -> usize {
        let mut seen = 0;
        for (row, e) in self.entries.iter().enumerate() {
            if matches!(e, Entry::Incident(_)) {
                if seen == self.cursor {
                    return row;
                }
                seen += 1;
            }
        }
        0
    }

    /// The incident opened, if still in the frame.
    pub fn opened(&self) -> Option<&Incident> {
        let id = self.open.as_deref()?;
        self.frame.incidents.iter().find(|i| i.id == id)
    }
}

/// Whether `incident` matches the lower-cased `needle` (title, id, source, severity, state,
/// hosts, label values).
fn matches(incident: &Incident, needle: &str) -> bool {
    let fields = [
        incident.title.as_str(),
        incident.id.as_str(),
        incident.source.as_str(),
        incident.severity.as_str(),
        incident.state.as_str(),
    ];
    fields.iter().any(|f| f.to_lowercase().contains(needle))
        || incident
            .hosts
            .iter()
            .any(|h| h.to_lowercase().contains(needle))
        || incident
            .labels
            .values()
            .any(|v| v.to_lowercase().contains(needle))
}
