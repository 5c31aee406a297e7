//! The Fleet table's order (which the Metrics heatmap shares): a column and a direction,
//! applied to the rows the target and filter let through, keeping the filter's ranking among
//! equals. Metric columns sort by fresh values, highest first; a host without a fresh value
//! goes last whichever the direction, so a stale 99% never heads the list. Sorting happens
//! when the rows, the sort or the data change (about once a second for metrics), never per
//! frame. No I/O.

use std::cmp::Ordering;
use std::time::SystemTime;

use crate::inventory::Inventory;
use crate::metrics::{Metric, MetricsFrame};
use crate::ui::app::connections::{self, Connections};
use crate::ui::app::widgets::metric::Reading;

use super::state::FleetState;

/// A column the table can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Cpu,
    Mem,
    Disk,
    Load,
    Name,
    Env,
    LastRun,
    Connection,
    Transport,
    Tags,
}

impl SortColumn {
    /// In the order `s` goes through them: the metrics first, what `s` is mostly for.
    pub const ALL: [SortColumn; 10] = [
        SortColumn::Cpu,
        SortColumn::Mem,
        SortColumn::Disk,
        SortColumn::Load,
        SortColumn::Name,
        SortColumn::Env,
        SortColumn::LastRun,
        SortColumn::Connection,
        SortColumn::Transport,
        SortColumn::Tags,
    ];

    /// The name `:sort` takes.
    pub fn name(self) -> &'static str {
        match self {
            SortColumn::Cpu => "cpu",
            SortColumn::Mem => "mem",
            SortColumn::Disk => "disk",
            SortColumn::Load => "load",
            SortColumn::Name => "name",
            SortColumn::Env => "env",
            SortColumn::LastRun => "last_run",
            SortColumn::Connection => "connection",
            SortColumn::Transport => "transport",
            SortColumn::Tags => "tags",
        }
    }

    pub fn from_name(name: &str) -> Option<SortColumn> {
        SortColumn::ALL.into_iter().find(|c| c.name() == name)
    }

    pub fn metric(self) -> Option<Metric> {
        match self {
            SortColumn::Cpu => Some(Metric::Cpu),
            SortColumn::Mem => Some(Metric::Mem),
            SortColumn::Disk => Some(Metric::Disk),
            SortColumn::Load => Some(Metric::Load),
            _ => None,
        }
    }
}

/// The order in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: SortColumn,
    pub descending: bool,
}

impl Sort {
    /// `column` in its natural direction: metrics highest first, text A to Z.
    pub fn new(column: SortColumn) -> Sort {
        Sort {
            column,
            descending: column.metric().is_some(),
        }
    }

    /// What `s` goes to after `current`: the next column, and after the last, none
    /// (the inventory's order).
    pub fn next(current: Option<Sort>) -> Option<Sort> {
        let Some(current) = current else {
            return Some(Sort::new(SortColumn::ALL[0]));
        };
        let at = SortColumn::ALL.iter().position(|c| *c == current.column)?;
        SortColumn::ALL.get(at + 1).map(|c| Sort::new(*c))
    }
}

/// What sorting reads besides the inventory and the fleet's own last results.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub metrics: &'a MetricsFrame,
    pub connections: &'a Connections,
    pub now: SystemTime,
}

/// Sorts `fleet.shown` by the sort in force (nothing without one), keeping the host under the
/// cursor under it.
pub fn resort(fleet: &mut FleetState, inventory: &Inventory, facts: &Facts) {
    if fleet.sort.is_none() {
        return;
    }
    let at = fleet.shown.get(fleet.cursor).copied();
    order(fleet, inventory, facts);
    if let Some(pos) = at.and_then(|at| fleet.shown.iter().position(|&i| i == at)) {
        fleet.cursor = pos;
    }
}

/// Sorts `fleet.shown` (stable: equal keys keep the filter's ranking); the cursor stays at its
/// row.
pub fn order(fleet: &mut FleetState, inventory: &Inventory, facts: &Facts) {
    let Some(sort) = fleet.sort else {
        return;
    };
    let hosts = inventory.hosts();
    if let Some(metric) = sort.column.metric() {
        let mut keyed: Vec<(Option<f64>, usize)> = fleet
            .shown
            .iter()
            .map(|&i| {
                let host = hosts.get(i).and_then(|h| facts.metrics.host(&h.name));
                (Reading::of(host, metric, facts.now).fresh(), i)
            })
            .collect();
        sort_keyed(&mut keyed, sort.descending, f64::total_cmp);
        fleet.shown = keyed.into_iter().map(|(_, i)| i).collect();
        return;
    }
    let mut keyed: Vec<(Option<String>, usize)> = fleet
        .shown
        .iter()
        .map(|&i| {
            let key = hosts.get(i).and_then(|h| match sort.column {
                SortColumn::Name => Some(h.name.clone()),
                SortColumn::Env => h.env.clone(),
                SortColumn::LastRun => fleet.last_result.get(&h.name).map(|s| s.label().into()),
                SortColumn::Connection => facts
                    .connections
                    .get(&h.name)
                    .map(|c| connections::label(c, true)),
                SortColumn::Transport => Some(h.transport.as_str().to_string()),
                SortColumn::Tags => (!h.tags.is_empty())
                    .then(|| h.tags.iter().cloned().collect::<Vec<_>>().join(",")),
                _ => None,
            });
            (key, i)
        })
        .collect();
    sort_keyed(&mut keyed, sort.descending, |a: &String, b: &String| {
        a.cmp(b)
    });
    fleet.shown = keyed.into_iter().map(|(_, i)| i).collect();
}

/// A stable sort on keys, missing keys last in either direction.
fn sort_keyed<K>(
    keyed: &mut [(Option<K>, usize)],
    descending: bool,
    cmp: impl Fn(&K, &K) -> Ordering,
) {
    keyed.sort_by(|(a, _), (b, _)| match (a, b) {
        (Some(a), Some(b)) if descending => cmp(b, a),
        (Some(a), Some(b)) => cmp(a, b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s_goes_through_every_column_then_back_to_none() {
        let mut sort = None;
        let mut seen = Vec::new();
        for _ in 0..SortColumn::ALL.len() {
            sort = Sort::next(sort);
            seen.push(sort.map(|s| s.column));
        }
        assert_eq!(seen.first(), Some(&Some(SortColumn::Cpu)));
        assert_eq!(Sort::next(sort), None);
        assert!(Sort::new(SortColumn::Disk).descending);
        assert!(!Sort::new(SortColumn::Name).descending);
        for c in SortColumn::ALL {
            assert_eq!(SortColumn::from_name(c.name()), Some(c));
        }
    }

    #[test]
    fn missing_keys_go_last_both_ways() {
        let mut keyed = vec![(None, 0), (Some(5.0), 1), (Some(9.0), 2), (Some(5.0), 3)];
        sort_keyed(&mut keyed, true, f64::total_cmp);
        let order: Vec<usize> = keyed.iter().map(|k| k.1).collect();
        assert_eq!(order, [2, 1, 3, 0]);
        sort_keyed(&mut keyed, false, f64::total_cmp);
        let order: Vec<usize> = keyed.iter().map(|k| k.1).collect();
        assert_eq!(order, [1, 3, 2, 0]);
    }
}
