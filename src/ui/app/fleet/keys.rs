//! The Fleet view's keys: moving the cursor, `/` to filter (typed live: the table narrows as
//! it is typed), `space` marks and moves on, `V` marks every host shown, `s`/`S` sort, esc
//! drops the filter, then the target. `u`, the view switches and quitting are the shell's
//! (update.rs). Marking is shared with the Metrics heatmap ([`toggle_mark`], [`mark_all`]).

use ratatui::crossterm::event::KeyEvent;

use super::sort::{Facts, Sort};
use super::state::FleetState;
use crate::inventory::Inventory;
use crate::ui::app::pane_keys::move_cursor;
use crate::ui::app::popup::Popup;
use crate::ui::app::shell::Shell;
use crate::ui::app::text_input::Edit;
use crate::ui::keymap::Action;

/// Handles `action` if the Fleet view gives it a meaning; `false` leaves it to the shell.
pub fn apply(
    fleet: &mut FleetState,
    inventory: &Inventory,
    facts: &Facts,
    shell: &mut Shell,
    action: Action,
) -> bool {
    let len = fleet.shown.len();
    if move_cursor(&mut fleet.cursor, len, shell.page_rows(), action) {
        return true;
    }
    match action {
        Action::Filter => shell.open(Popup::Filter),
        Action::Mark => {
            if toggle_mark(fleet, inventory) {
                // Like mutt and ranger: marking moves on, so space space space marks a run.
                fleet.cursor = (fleet.cursor + 1).min(len.saturating_sub(1));
            }
        }
        Action::MarkAllShown => mark_all(fleet, inventory),
        Action::SortNext => {
            let sort = Sort::next(fleet.sort);
            set_sort(fleet, inventory, facts, shell, sort);
        }
        Action::SortReverse => {
            let Some(mut sort) = fleet.sort else {
                shell.info("not sorted: s sorts by the next column, :sort COLUMN by one");
                return true;
            };
            sort.descending = !sort.descending;
            set_sort(fleet, inventory, facts, shell, Some(sort));
        }
        Action::Back => back(fleet, inventory, facts, shell),
        _ => return false,
    }
    true
}

/// Marks or unmarks the host under the cursor; `false` when no row is shown.
pub fn toggle_mark(fleet: &mut FleetState, inventory: &Inventory) -> bool {
    let Some(name) = fleet.current_host(inventory).map(|h| h.name.clone()) else {
        return false;
    };
    if !fleet.marked.remove(&name) {
        fleet.marked.insert(name);
    }
    true
}

/// Marks every host shown.
pub fn mark_all(fleet: &mut FleetState, inventory: &Inventory) {
    let names: Vec<String> = fleet
        .shown_hosts(inventory)
        .map(|h| h.name.clone())
        .collect();
    fleet.marked.extend(names);
}

/// Sorts by `sort` (none: the inventory's order, or the filter's ranking), keeping the host
/// under the cursor, and says so.
pub fn set_sort(
    fleet: &mut FleetState,
    inventory: &Inventory,
    facts: &Facts,
    shell: &mut Shell,
    sort: Option<Sort>,
) {
    let at = fleet.shown.get(fleet.cursor).copied();
    fleet.sort = sort;
    fleet.refresh(inventory, facts);
    if let Some(pos) = at.and_then(|at| fleet.shown.iter().position(|&i| i == at)) {
        fleet.cursor = pos;
    }
    match sort {
        Some(s) => shell.info(format!(
            "sorted by {}, {}",
            s.column.name(),
            if s.descending {
                "highest first"
            } else {
                "lowest first"
            }
        )),
        None => shell.info("sorted as hosts.toml lists them"),
    }
}

/// `esc`/`q`: drop the filter, then the target; with nothing to drop, say how to quit.
pub fn back(fleet: &mut FleetState, inventory: &Inventory, facts: &Facts, shell: &mut Shell) {
    if !fleet.filter.is_empty() {
        fleet.filter.clear();
        fleet.refresh(inventory, facts);
    } else if fleet.target.is_some() {
        fleet.target = None;
        fleet.refresh(inventory, facts);
        shell.info("target cleared: all hosts");
    } else {
        shell.info("Q, C-c or :q quits");
    }
}

/// Keys while `/` edits the filter: the table narrows with each one, from the top.
pub fn on_filter_key(
    fleet: &mut FleetState,
    inventory: &Inventory,
    facts: &Facts,
    shell: &mut Shell,
    key: &KeyEvent,
) {
    match fleet.filter.on_key(key) {
        Edit::Ignored => return,
        Edit::Submit | Edit::Cancel => {
            shell.close();
        }
        Edit::Changed => {}
    }
    fleet.cursor = 0;
    fleet.refresh(inventory, facts);
}
