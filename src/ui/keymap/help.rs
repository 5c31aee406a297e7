//! The rows of the `?` help, built from the live keymap so help never drifts from the keys,
//! and only with the actions the screen handles (each action declares its screens).

use std::collections::HashSet;

use super::action::Action;
use super::context::Context;
use super::key::{Key, display_sequence};
use super::map::{Keymap, Lookup};
use super::screen::Screen;

/// One help line: the keys (`j, down`), the action and its description.
pub type HelpRow = (String, Action, &'static str);

/// The keys that work on `screen`, grouped by the section they come from, most specific
/// first (`Output panes`, then `Runs`, then `Everywhere`). Keys a more specific section
/// overrides or disables are left out, and so are actions the screen does not handle (a
/// `[global]` key that only the Fleet view uses); sections with nothing left are dropped.
/// Within a section, rows follow `Action::ALL` and keys follow the file.
pub fn help_sections(keymap: &Keymap, screen: Screen) -> Vec<(Context, Vec<HelpRow>)> {
    let context = screen.context();
    let mut claimed: HashSet<Vec<Key>> = HashSet::new();
    let mut sections = Vec::new();
    for layer in context.chain() {
        let mut keys_of: Vec<(Action, Vec<String>)> = Vec::new();
        for binding in keymap.section(layer) {
            let Some(action) = binding.action.filter(|a| a.works_on(screen)) else {
                continue;
            };
            let live = keymap.lookup_keys(context, &binding.keys) == Lookup::Matched(action);
            if !live || !claimed.insert(binding.keys.clone()) {
                continue;
            }
            let text = display_sequence(&binding.keys);
            match keys_of.iter_mut().find(|(a, _)| *a == action) {
                Some((_, keys)) => keys.push(text),
                None => keys_of.push((action, vec![text])),
            }
        }
        let rows: Vec<HelpRow> = Action::ALL
            .into_iter()
            .filter_map(|action| {
                let (_, keys) = keys_of.iter().find(|(a, _)| *a == action)?;
                Some((keys.join(", "), action, action.description()))
            })
            .collect();
        if !rows.is_empty() {
            sections.push((layer, rows));
        }
    }
    sections
}

/// [`help_sections`] flattened, most specific section first.
pub fn help_rows(keymap: &Keymap, screen: Screen) -> Vec<HelpRow> {
    help_sections(keymap, screen)
        .into_iter()
        .flat_map(|(_, rows)| rows)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::keymap::load::{builtin, merge_user};
    use std::path::Path;

    #[test]
    fn pane_help_lists_pane_then_runs_then_global() {
        let km = builtin().unwrap();
        let sections = help_sections(&km, Screen::RunPanes);
        let order: Vec<Context> = sections.iter().map(|(c, _)| *c).collect();
        assert_eq!(order, [Context::Pane, Context::Runs, Context::Global]);
        let rows = help_rows(&km, Screen::RunPanes);
        let follow = rows.iter().find(|r| r.1 == Action::Follow).unwrap();
        assert_eq!(follow.0, "f");
        let down = rows.iter().find(|r| r.1 == Action::MoveDown).unwrap();
        assert_eq!(down.0, "j, down");
        assert_eq!(down.2, Action::MoveDown.description());
    }

    /// A recorded output in History shares the pane keys, but not the Runs view's.
    #[test]
    fn history_output_lists_only_what_history_handles() {
        let km = builtin().unwrap();
        let actions: Vec<Action> = help_rows(&km, Screen::HistoryOutput)
            .into_iter()
            .map(|r| r.1)
            .collect();
        for there in [
            Action::Follow,
            Action::Wrap,
            Action::RerunFailed,
            Action::MoveDown,
        ] {
            assert!(actions.contains(&there), "{there:?} in {actions:?}");
        }
        for not_there in [
            Action::Zoom,
            Action::CancelRun,
            Action::CycleLayout,
            Action::Filter,
            Action::Open,
            Action::SearchNext,
            Action::Mark,
        ] {
            assert!(
                !actions.contains(&not_there),
                "{not_there:?} in {actions:?}"
            );
        }
    }

    /// Marking is a key of the views that show hosts (Fleet, Metrics): listed there, nowhere
    /// else, even when a user keymap still binds it in `[global]`.
    #[test]
    fn fleet_keys_show_only_in_the_fleet_view() {
        let base = builtin().unwrap();
        let (km, _) =
            merge_user(&base, Path::new("old.toml"), "[global]\n\"m\" = \"mark\"\n").unwrap();
        let fleet = help_rows(&km, Screen::Fleet);
        let mark: Vec<&str> = fleet
            .iter()
            .filter(|r| r.1 == Action::Mark)
            .map(|r| r.0.as_str())
            .collect();
        assert_eq!(mark, ["space", "m"]);
        let hosts_shown = [Screen::Fleet, Screen::Metrics];
        for screen in Screen::ALL.into_iter().filter(|s| !hosts_shown.contains(s)) {
            let rows = help_rows(&km, screen);
            for action in [Action::Mark, Action::MarkAllShown] {
                assert!(
                    !rows.iter().any(|r| r.1 == action),
                    "{action:?} on {screen:?}"
                );
            }
        }
    }

    #[test]
    fn help_follows_user_changes() {
        let base = builtin().unwrap();
        let (km, _) = merge_user(
            &base,
            Path::new("mine.toml"),
            "[global]\n\"down\" = \"<disabled>\"\n\"J\" = \"move_down\"\n[fleet]\n\"q\" = \"quit\"\n",
        )
        .unwrap();
        let rows = help_rows(&km, Screen::Fleet);
        let down = rows.iter().find(|r| r.1 == Action::MoveDown).unwrap();
        assert_eq!(down.0, "j, J");
        let quit = rows.iter().find(|r| r.1 == Action::Quit).unwrap();
        assert!(quit.0.starts_with('q'), "{quit:?}");
        // The global `q` (back) is overridden in fleet, so it is not listed there.
        let back = rows.iter().find(|r| r.1 == Action::Back).unwrap();
        assert_eq!(back.0, "esc");
        // Every row's keys really do that action.
        for (keys, action, _) in &rows {
            for chord in keys.split(", ") {
                let keys = crate::ui::keymap::key::parse_sequence(chord).unwrap();
                assert_eq!(
                    km.lookup_keys(Context::Fleet, &keys),
                    Lookup::Matched(*action)
                );
            }
        }
    }
}
