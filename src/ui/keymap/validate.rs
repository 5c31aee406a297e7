//! What `fleetdeck check` says about a keymap file: everything the parser found, plus keys
//! that clash inside a section, keys a terminal multiplexer would swallow, and `[global]` keys
//! whose action only one view's section can use (they still work, from there).

use std::path::Path;

use super::action::Action;
use super::context::Context;
use super::key::{Key, display_sequence};
use super::parse::{Entry, Finding, ParsedFile, WARNING_PREFIX, error, parse_file, warning};
use super::screen::Screen;
use crate::diag::{Diagnostic, line_col};

/// Prefix keys of tmux (its default) and of screen (which many tmux users keep): inside a
/// multiplexer configured that way the key never reaches fleetdeck.
const MULTIPLEXER_PREFIXES: [(&str, &str); 2] = [
    ("C-b", "tmux's default prefix key"),
    ("C-a", "a common tmux prefix key (and screen's)"),
];

/// Every problem in the keymap file `path` whose text is `src`, sorted by position. Warnings
/// start with `warning: ` (see [`is_warning`]); anything else is an error.
pub fn validate_file(path: &Path, src: &str) -> Vec<Diagnostic> {
    check_file(path, src)
        .findings
        .into_iter()
        .map(|f| f.diagnostic)
        .collect()
}

/// True for a diagnostic that does not stop a keymap from loading.
pub fn is_warning(diagnostic: &Diagnostic) -> bool {
    diagnostic.message.starts_with(WARNING_PREFIX)
}

/// Parses and checks a file; findings sorted by position.
pub(crate) fn check_file(path: &Path, src: &str) -> ParsedFile {
    let mut parsed = parse_file(path, src);
    let mut findings = Vec::new();
    for (context, entries) in &parsed.sections {
        check_section(path, src, entries, &mut findings);
        if *context == Context::Global {
            check_global(path, src, entries, &mut findings);
        }
    }
    parsed.findings.extend(findings);
    parsed
        .findings
        .sort_by_key(|f| (f.diagnostic.line, f.diagnostic.column));
    parsed
}

fn check_section(path: &Path, src: &str, entries: &[Entry], findings: &mut Vec<Finding>) {
    for (i, entry) in entries.iter().enumerate() {
        let keys = &entry.binding.keys;
        let at = entry.key_span.start;
        if keys.len() > 1 && keys.iter().any(|k| k.is_esc()) {
            findings.push(error(
                path,
                src,
                at,
                format!(
                    "`{}`: esc cancels a pending chord, so it cannot be part of one",
                    entry.text
                ),
            ));
        }
        // Each pair once, reported at the later entry.
        for earlier in &entries[..i] {
            if let Some(message) = clash(entry, earlier, src) {
                findings.push(error(path, src, at, message));
            }
        }
        for key in keys {
            if let Some(message) = multiplexer_clash(*key) {
                findings.push(warning(
                    path,
                    src,
                    at,
                    format!("`{}` uses {message}", entry.text),
                ));
            }
        }
    }
}

/// `[global]` entries whose action does something in one view only (marking: the Fleet
/// view): they work, but belong in that view's section, where help and the other views agree.
fn check_global(path: &Path, src: &str, entries: &[Entry], findings: &mut Vec<Finding>) {
    for entry in entries {
        let Some(action) = entry.binding.action else {
            continue;
        };
        if let Some(home) = home_section(action) {
            findings.push(warning(
                path,
                src,
                entry.key_span.start,
                format!(
                    "`{}` = \"{}\" is in [global] but does something only in [{}] ({}): move it \
                     to [{}] (until then it still works there)",
                    entry.text,
                    action.name(),
                    home.name(),
                    home.title(),
                    home.name(),
                ),
            ));
        }
    }
}

/// The narrowest view section that reaches every screen `action` works on, when there is one.
fn home_section(action: Action) -> Option<Context> {
    let reach = |section: Context| -> Vec<Screen> {
        Screen::ALL
            .into_iter()
            .filter(|s| s.context().chain().contains(&section))
            .collect()
    };
    Context::ALL
        .into_iter()
        .filter(|c| *c != Context::Global)
        .map(|c| (c, reach(c)))
        .filter(|(_, screens)| action.screens().iter().all(|s| screens.contains(s)))
        .min_by_key(|(_, screens)| screens.len())
        .map(|(c, _)| c)
}

/// Why two entries of one section cannot both stand, if they cannot.
fn clash(entry: &Entry, earlier: &Entry, src: &str) -> Option<String> {
    let (keys, other) = (&entry.binding.keys, &earlier.binding.keys);
    let (line, _) = line_col(src, earlier.key_span.start);
    if keys == other {
        return Some(format!(
            "`{}` is the same key as `{}` on line {line}: keep one of them",
            entry.text, earlier.text
        ));
    }
    // `<disabled>` binds nothing, so it cannot make a key both a binding and a prefix.
    if entry.binding.action.is_none() || earlier.binding.action.is_none() {
        return None;
    }
    let (short, long) = if keys.len() < other.len() {
        (keys, other)
    } else {
        (other, keys)
    };
    if !long.starts_with(short) {
        return None;
    }
    Some(format!(
        "`{}` clashes with `{}` on line {line}: `{}` cannot be both a binding and the start of \
         the chord `{}` (the chord would never be reached); drop one or pick another key",
        entry.text,
        earlier.text,
        display_sequence(short),
        display_sequence(long),
    ))
}

fn multiplexer_clash(key: Key) -> Option<String> {
    MULTIPLEXER_PREFIXES.iter().find_map(|(text, what)| {
        let prefix = Key::parse(text).ok()?;
        (key == prefix).then(|| {
            format!(
                "{text}, {what}: inside tmux it may never reach fleetdeck (pick another key, \
                 or keep it if your tmux prefix is different)"
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diags(src: &str) -> Vec<String> {
        validate_file(Path::new("km.toml"), src)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn shipped_vim_keymap_has_no_diagnostics() {
        let src = super::super::load::BUILTIN_SOURCE;
        assert_eq!(diags(src), Vec::<String>::new());
    }

    #[test]
    fn unknown_action_with_suggestion() {
        let d = diags("[global]\n\"j\" = \"move_dwn\"\n");
        assert_eq!(
            d,
            ["km.toml:2:7: unknown action `move_dwn`: did you mean `move_down`?"]
        );
    }

    #[test]
    fn unknown_action_without_suggestion() {
        let d = diags("[global]\n\"j\" = \"launch_rockets\"\n");
        assert_eq!(d.len(), 1);
        assert!(
            d[0].starts_with("km.toml:2:7: unknown action `launch_rockets` ("),
            "{d:?}"
        );
    }

    #[test]
    fn unknown_context_with_suggestion() {
        let d = diags("[global]\n\"j\" = \"move_down\"\n\n[fleeet]\n\"x\" = \"mark\"\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with("km.toml:4:2: unknown context `fleeet`: did you mean `[fleet]`?"),
            "{d:?}"
        );
    }

    #[test]
    fn bad_key_syntax() {
        let d = diags("[pane]\n\"f\" = \"follow\"\n\"C-X-y\" = \"zoom\"\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with("km.toml:3:1: unknown modifier `X-` in `C-X-y`"),
            "{d:?}"
        );
    }

    #[test]
    fn binding_that_is_also_a_chord_prefix() {
        let d = diags("[global]\n\"g g\" = \"top\"\n\"g\" = \"bottom\"\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with("km.toml:3:1: `g` clashes with `g g` on line 2: `g` cannot be both a binding and the start of the chord `g g`"),
            "{d:?}"
        );
    }

    #[test]
    fn two_spellings_of_one_key() {
        let d = diags("[global]\n\"G\" = \"bottom\"\n\"S-g\" = \"top\"\n");
        assert_eq!(
            d,
            ["km.toml:3:1: `S-g` is the same key as `G` on line 2: keep one of them"]
        );
    }

    #[test]
    fn same_keys_in_different_sections_are_overrides() {
        assert!(diags("[global]\n\"g\" = \"top\"\n[fleet]\n\"g g\" = \"top\"\n").is_empty());
    }

    #[test]
    fn disabled_prefix_is_not_a_clash() {
        assert!(diags("[global]\n\"g\" = \"<disabled>\"\n\"g x\" = \"top\"\n").is_empty());
    }

    #[test]
    fn esc_inside_a_chord() {
        let d = diags("[global]\n\"g esc\" = \"top\"\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with("km.toml:2:1: `g esc`: esc cancels"),
            "{d:?}"
        );
    }

    #[test]
    fn tmux_prefixes_are_warnings() {
        let src = "[global]\n\"C-b\" = \"half_page_up\"\n\"g C-a\" = \"top\"\n";
        let all = validate_file(Path::new("km.toml"), src);
        assert_eq!(all.len(), 2, "{all:?}");
        assert!(all.iter().all(is_warning));
        assert!(
            all[0]
                .to_string()
                .starts_with("km.toml:2:1: warning: `C-b` uses C-b, tmux's default prefix key"),
            "{all:?}"
        );
        assert_eq!((all[1].line, all[1].column), (3, 1));
    }

    #[test]
    fn fleet_only_keys_in_global_are_warnings_naming_the_section() {
        let src = "[global]\n\"j\" = \"move_down\"\n\"s\" = \"sort_next\"\n  \"x\" = \"cycle_metric\"\n\"space\" = \"mark\"\n\"!\" = \"run_command\"\n[fleet]\n\"S\" = \"sort_reverse\"\n";
        let all = validate_file(Path::new("km.toml"), src);
        assert!(all.iter().all(is_warning), "{all:?}");
        let text: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "km.toml:3:1: warning: `s` = \"sort_next\" is in [global] but does something \
                 only in [fleet] (Fleet): move it to [fleet] (until then it still works there)",
                "km.toml:4:3: warning: `x` = \"cycle_metric\" is in [global] but does \
                 something only in [metrics] (Metrics): move it to [metrics] (until then it \
                 still works there)",
            ]
        );
        // Marking works in the Fleet table and the Metrics heatmap: no one section.
        assert_eq!(home_section(Action::Mark), None);
        // Pane keys belong in [pane]; keys several views use stay global.
        assert_eq!(home_section(Action::Follow), Some(Context::Pane));
        assert_eq!(home_section(Action::SearchNext), Some(Context::Pane));
        assert_eq!(home_section(Action::CancelRun), Some(Context::Runs));
        assert_eq!(home_section(Action::Open), None);
        assert_eq!(home_section(Action::RunCommand), None);
        assert_eq!(home_section(Action::RerunFailed), None);
    }

    #[test]
    fn toml_syntax_error_has_a_position() {
        let d = diags("[global]\n\"j\" = move_down\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].starts_with("km.toml:2:7: "), "{d:?}");
    }

    #[test]
    fn values_must_be_action_names() {
        let d = diags("[global]\n\"j\" = 3\n[fleet.g]\n\"g\" = \"top\"\n");
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(
            d[0].starts_with("km.toml:2:7: expected an action name"),
            "{d:?}"
        );
        assert!(d[1].contains("nested table"), "{d:?}");
    }

    #[test]
    fn a_top_level_value_is_not_a_section() {
        let d = diags("global = \"vim\"\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with("km.toml:1:1: `global` must be a section"),
            "{d:?}"
        );
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let d = diags("[global]\n\"jj\" = \"move_down\"\n\"k\" = \"mvoe_up\"\n[nope]\n");
        assert_eq!(d.len(), 3, "{d:?}");
    }
}
