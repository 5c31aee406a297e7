//! The Fleet view's keys: moving the cursor, `/` to filter (typed live: the table narrows as
//! it is typed), `space` marks and moves on, `V` marks every host shown, esc drops the
//! filter, then the target. `u`, the view switches and quitting are the shell's (update.rs).

use ratatui::crossterm::event::KeyEvent;

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
            if let Some(name) = fleet.current_host(inventory).map(|h| h.name.clone()) {
                if !fleet.marked.remove(&name) {
                    fleet.marked.insert(name);
                }
                // Like mutt and ranger: marking moves on, so space space space marks a run.
                fleet.cursor = (fleet.cursor + 1).min(len.saturating_sub(1));
            }
        }
        Action::MarkAllShown => {
            let names: Vec<String> = fleet
                .shown_hosts(inventory)
                .map(|h| h.name.clone())
                .collect();
            fleet.marked.extend(names);
        }
        Action::Back => back(fleet, inventory, shell),
        _ => return false,
    }
    true
}

/// `esc`/`q`: drop the filter, then the target; with nothing to drop, say how to quit.
pub fn back(fleet: &mut FleetState, inventory: &Inventory, shell: &mut Shell) {
    if !fleet.filter.is_empty() {
        fleet.filter.clear();
        fleet.refresh(inventory);
    } else if fleet.target.is_some() {
        fleet.target = None;
        fleet.refresh(inventory);
        shell.info("target cleared: all hosts");
    } else {
        shell.info("Q, C-c or :q quits");
    }
}

/// Keys while `/` edits the filter: the table narrows with each one, from the top.
pub fn on_filter_key(
    fleet: &mut FleetState,
    inventory: &Inventory,
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
    fleet.refresh(inventory);
}
