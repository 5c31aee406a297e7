//! Keymaps: which keys do what, per context, loaded from TOML like helix's.
//!
//! keymaps/vim.toml is built in; a user's `keymaps/NAME.toml` is merged over it ([`load`]).
//! A key press goes to a [`KeyDispatcher`], which holds the keys of a chord in progress and
//! asks the [`Keymap`]'s trie what they mean ([`Lookup`]). `fleetdeck check` uses
//! [`validate_file`]; `?` uses [`help_rows`], built from the same keymap and filtered by the
//! [`Screen`]s each action declares it works on.
//!
//! Counts (`5j`) are not supported: `1`..`6` switch views in every context, so a leading
//! digit cannot start a count.

mod action;
mod context;
mod dispatch;
mod help;
pub mod key;
mod load;
mod map;
mod parse;
pub mod screen;
mod trie;
mod validate;

pub use action::Action;
pub use context::Context;
pub use dispatch::KeyDispatcher;
pub use help::{HelpRow, help_rows, help_sections};
pub use key::Key;
pub use load::{BUILTIN_NAME, BUILTIN_SOURCE, available, builtin, load, merge_user};
pub use map::{Binding, Keymap, Lookup};
pub use parse::{DISABLED, WARNING_PREFIX};
pub use screen::Screen;
pub use validate::{is_warning, validate_file};

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action has a default key somewhere, or is listed as unbound on purpose.
    #[test]
    fn every_action_is_bound_or_documented_unbound() {
        let km = builtin().unwrap();
        for action in Action::ALL {
            let bound = Context::ALL
                .into_iter()
                .any(|c| km.section(c).iter().any(|b| b.action == Some(action)));
            let documented = Action::UNBOUND_BY_DEFAULT.contains(&action);
            assert!(
                bound != documented,
                "{}: bound = {bound}, listed in UNBOUND_BY_DEFAULT = {documented}",
                action.name()
            );
        }
    }

    /// The keys README.md promises, as the shipped keymap binds them.
    #[test]
    fn design_keys_are_the_defaults() {
        let km = builtin().unwrap();
        let expect = [
            (Context::Fleet, "j", Action::MoveDown),
            (Context::Fleet, "k", Action::MoveUp),
            (Context::Fleet, "g g", Action::Top),
            (Context::Fleet, "G", Action::Bottom),
            (Context::Fleet, "C-d", Action::HalfPageDown),
            (Context::Fleet, "C-u", Action::HalfPageUp),
            (Context::Fleet, "/", Action::Filter),
            (Context::Pane, "n", Action::SearchNext),
            (Context::Pane, "N", Action::SearchPrev),
            (Context::Fleet, ":", Action::CommandLine),
            (Context::Fleet, "space", Action::Mark),
            (Context::Fleet, "V", Action::MarkAllShown),
            (Context::Fleet, "u", Action::ClearMarks),
            (Context::Fleet, "enter", Action::Open),
            (Context::Fleet, "esc", Action::Back),
            (Context::Fleet, "q", Action::Back),
            (Context::Fleet, "tab", Action::NextView),
            (Context::Fleet, "S-tab", Action::PrevView),
            (Context::Fleet, "1", Action::ViewFleet),
            (Context::Fleet, "2", Action::ViewRuns),
            (Context::Fleet, "3", Action::ViewMetrics),
            (Context::Fleet, "4", Action::ViewIncidents),
            (Context::Fleet, "5", Action::ViewHistory),
            (Context::Fleet, "6", Action::ViewActions),
            (Context::Pane, "f", Action::Follow),
            (Context::Pane, "z", Action::Zoom),
            (Context::Pane, "w", Action::Wrap),
            (Context::Pane, "s", Action::Grouped),
            (Context::Fleet, "!", Action::RunCommand),
            (Context::Fleet, "?", Action::Help),
        ];
        for (context, keys, action) in expect {
            let keys = key::parse_sequence(keys).unwrap();
            assert_eq!(
                km.lookup_keys(context, &keys),
                Lookup::Matched(action),
                "{} in {}",
                key::display_sequence(&keys),
                context.name()
            );
        }
    }
}
