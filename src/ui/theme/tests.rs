//! Loading themes end to end: built-in ones, user files from a temporary home, inheritance,
//! every kind of error at its file:line:column, and colour adaptation.

use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};

use super::*;
use crate::config::Home;
use crate::diag::Diagnostic;

/// A temporary home whose themes folder holds the named fixtures.
struct TestHome {
    _dir: tempfile::TempDir,
    home: Home,
}

impl TestHome {
    fn with(fixtures: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::under(dir.path());
        std::fs::create_dir_all(home.themes_dir()).unwrap();
        for name in fixtures {
            std::fs::copy(fixture(name), home.themes_dir().join(name)).unwrap();
        }
        Self { _dir: dir, home }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.themes_dir().join(name)
    }

    /// Diagnostics as printed, with the temporary folder shortened to `themes/`.
    fn show(&self, diags: &[Diagnostic]) -> Vec<String> {
        let dir = format!("{}/", self.home.themes_dir().display());
        diags
            .iter()
            .map(|d| d.to_string().replace(&dir, "themes/"))
            .collect()
    }

    fn load_err(&self, name: &str) -> Vec<String> {
        match load(&self.home, name) {
            Ok(_) => panic!("theme {name} loaded, expected errors"),
            Err(e) => self.show(&e),
        }
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/themes")
        .join(name)
}

#[track_caller]
fn assert_one(diags: &[String], prefix: &str) {
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert!(
        diags[0].starts_with(prefix),
        "expected {prefix:?}, got {:?}",
        diags[0]
    );
}

fn every_state() -> Vec<crate::engine::HostState> {
    symbols::tests::every_state()
}

#[test]
fn every_builtin_theme_loads_without_diagnostics() {
    let h = TestHome::with(&[]);
    for (name, src) in BUILTIN {
        let (theme, warnings) = load(&h.home, name).unwrap_or_else(|e| panic!("{name}: {e:#?}"));
        assert!(warnings.is_empty(), "{name}: {warnings:#?}");
        assert_eq!(theme.name(), *name);
        assert_eq!(Theme::builtin(name).as_ref(), Some(&theme));
        let as_file = Path::new("themes").join(format!("{name}.toml"));
        assert_eq!(validate_file(&as_file, src, &h.home), [], "{name}");
    }
    assert_eq!(Theme::default().name(), "dark");
}

#[test]
fn every_builtin_theme_styles_every_scope() {
    for (name, _) in BUILTIN {
        let theme = Theme::builtin(name).unwrap();
        for s in scope::SCOPES {
            assert_ne!(theme.style(s.name), Style::default(), "{name}: {}", s.name);
        }
    }
}

/// WCAG contrast ratio of two colours (1 to 21).
fn contrast(a: Color, b: Color) -> f64 {
    let luminance = |c: Color| {
        let (r, g, b) = match c {
            Color::Rgb(r, g, b) => (r, g, b),
            other => panic!("shipped themes use RGB, found {other:?}"),
        };
        let lin = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    };
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn builtin_themes_are_readable() {
    for (name, _) in BUILTIN {
        let theme = Theme::builtin(name).unwrap();
        let bg = theme.background().bg.unwrap();
        let on_bg = |scope: &str| theme.style(scope).fg.unwrap();
        assert!(contrast(on_bg(scope::UI_TEXT), bg) >= 7.0, "{name}: text");
        for s in [scope::UI_TEXT_DIM, scope::OUTPUT_STDERR, scope::UI_HELP_KEY] {
            assert!(contrast(on_bg(s), bg) >= 4.5, "{name}: {s}");
        }
        for state in every_state() {
            let fg = theme.state(&state).fg.unwrap();
            let c = contrast(fg, bg);
            assert!(c >= 4.5, "{name}: {} has contrast {c:.2}", state.label());
        }
    }
}

#[test]
fn lookups_fall_back_to_parent_scopes() {
    let theme = Theme::builtin("dark").unwrap();
    assert_eq!(
        theme.style("ui.table.header.focused"),
        theme.style(scope::UI_TABLE_HEADER)
    );
    assert_eq!(theme.style("ui.text.dim.extra"), theme.dim());
    assert_eq!(theme.style("nothing.at.all"), Style::default());
    // A scope the theme does not set itself uses its parent.
    let h = TestHome::with(&["child.toml"]);
    std::fs::write(
        h.path("fallback.toml"),
        "\"ui\" = \"#010101\"\n\"state.failed\" = \"#020202\"\n",
    )
    .unwrap();
    let (t, _) = load(&h.home, "fallback").unwrap();
    assert_eq!(
        t.style(scope::UI_TABLE_HEADER).fg,
        Some(Color::Rgb(1, 1, 1))
    );
    let error = crate::engine::HostState::Error {
        kind: crate::engine::ErrorKind::Protocol,
        message: String::new(),
    };
    assert_eq!(t.state(&error).fg, Some(Color::Rgb(2, 2, 2)));
}

#[test]
fn semantic_methods_pick_their_scopes() {
    let t = Theme::builtin("dark").unwrap();
    assert_eq!(t.title(true), t.style(scope::UI_TITLE_FOCUSED));
    assert_eq!(t.title(false), t.style(scope::UI_TITLE));
    assert_eq!(t.border(true), t.style(scope::UI_BORDER_FOCUSED));
    assert_ne!(t.border(true), t.border(false));
    assert_eq!(
        t.state(&crate::engine::HostState::Ok),
        t.style(scope::STATE_OK)
    );
    assert_eq!(t.search_match(true), t.style(scope::UI_SEARCH_CURRENT));
}

#[test]
fn state_symbols_are_distinct_and_switch_to_ascii() {
    let t = Theme::default();
    let ascii = t.clone().with_ascii_symbols(true);
    let mut seen = std::collections::HashSet::new();
    for state in every_state() {
        assert!(seen.insert(t.state_symbol(&state)), "{}", state.label());
        assert!(ascii.state_symbol(&state).is_ascii());
    }
    assert_eq!(t.state_symbol(&crate::engine::HostState::Ok), "✔");
    assert_eq!(ascii.state_symbol(&crate::engine::HostState::Ok), "+");
}

#[test]
fn inherits_merges_palette_and_scopes() {
    let h = TestHome::with(&["child.toml", "grandchild.toml"]);
    let dark = Theme::builtin("dark").unwrap();
    let (child, warnings) = load(&h.home, "child").unwrap();
    assert!(warnings.is_empty());
    // The overridden palette entry recolours inherited scopes that use it.
    assert_eq!(child.background().bg, Some(Color::Rgb(0, 0, 0)));
    assert_eq!(
        child.style(scope::UI_TABS_ACTIVE).fg,
        Some(Color::Rgb(0, 0, 0))
    );
    // The overridden scope is replaced whole.
    assert_eq!(
        child.text(),
        Style::default()
            .fg(Color::Rgb(255, 255, 255))
            .add_modifier(Modifier::ITALIC)
    );
    // Everything else is dark's.
    assert_eq!(child.border(true), dark.border(true));
    let (grandchild, _) = load(&h.home, "grandchild").unwrap();
    assert_eq!(grandchild.border(false).fg, Some(Color::Indexed(33)));
    assert_eq!(grandchild.background().bg, Some(Color::Rgb(0, 0, 0)));
}

#[test]
fn a_user_file_overrides_the_builtin_of_its_name() {
    let h = TestHome::with(&["dark.toml"]);
    let (theme, warnings) = load(&h.home, "dark").unwrap();
    assert!(warnings.is_empty());
    assert_eq!(theme.border(false), Style::default().fg(Color::LightRed));
    let builtin = Theme::builtin("dark").unwrap();
    assert_eq!(theme.text(), builtin.text());
    assert_ne!(theme, builtin);
    // Built-in themes that inherit dark still get the built-in dark.
    let (light, _) = load(&h.home, "light").unwrap();
    assert_eq!(light, Theme::builtin("light").unwrap());
    assert_eq!(
        available(&h.home),
        ["dark", "high-contrast", "light"].map(String::from)
    );
}

#[test]
fn bad_colour_is_an_error_at_its_place() {
    let h = TestHome::with(&["bad_colour.toml"]);
    assert_one(
        &h.load_err("bad_colour"),
        "themes/bad_colour.toml:3:22: `#12345` is not a colour: write `#rrggbb`",
    );
}

#[test]
fn bad_palette_value_suggests_a_colour_name() {
    let h = TestHome::with(&["bad_palette_value.toml"]);
    let errors = h.load_err("bad_palette_value");
    // The palette entry is wrong, so `fg` names nothing either.
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with("themes/bad_palette_value.toml:1:13: unknown colour `fg`"),
        "{errors:#?}"
    );
    assert!(errors[1].starts_with(
        "themes/bad_palette_value.toml:4:6: palette colour `fg` = `lightred2` is not a colour: did you mean `light-red`?"
    ), "{errors:#?}");
}

#[test]
fn unknown_palette_name_suggests_the_near_one() {
    let h = TestHome::with(&["unknown_palette.toml"]);
    assert_one(
        &h.load_err("unknown_palette"),
        "themes/unknown_palette.toml:3:32: unknown colour `bg_alf`: did you mean `bg_alt`?",
    );
}

#[test]
fn unknown_style_key_suggests_the_near_one() {
    let h = TestHome::with(&["unknown_key.toml"]);
    assert_one(
        &h.load_err("unknown_key"),
        "themes/unknown_key.toml:3:32: unknown key `bgg` in the style of `ui.statusline`: did you mean `bg`?",
    );
}

#[test]
fn bad_modifier_lists_the_modifiers() {
    let h = TestHome::with(&["bad_modifier.toml"]);
    let errors = h.load_err("bad_modifier");
    assert_one(
        &errors,
        "themes/bad_modifier.toml:3:53: unknown modifier `blink`",
    );
    assert!(errors[0].contains("slow_blink, rapid_blink"), "{errors:?}");
}

#[test]
fn unknown_inherits_suggests_a_theme() {
    let h = TestHome::with(&["unknown_inherits.toml", "child.toml"]);
    let errors = h.load_err("unknown_inherits");
    assert_one(
        &errors,
        "themes/unknown_inherits.toml:1:12: `inherits` names no theme: `drak`: did you mean `dark`? (built-in: dark, light, high-contrast; user themes in ",
    );
    assert!(
        errors[0].ends_with(": child, unknown_inherits)"),
        "{errors:?}"
    );
}

#[test]
fn inherits_cycle_names_the_files() {
    let h = TestHome::with(&["cycle_a.toml", "cycle_b.toml"]);
    assert_one(
        &h.load_err("cycle_a"),
        "themes/cycle_b.toml:1:12: `inherits` makes a cycle: themes/cycle_a.toml → themes/cycle_b.toml → themes/cycle_a.toml; remove `inherits` from one of these files",
    );
    // Checking one file of the cycle points at its own `inherits` line.
    let path = h.path("cycle_a.toml");
    let src = std::fs::read_to_string(&path).unwrap();
    let diags = h.show(&validate_file(&path, &src, &h.home));
    assert_one(
        &diags,
        "themes/cycle_a.toml:1:12: the themes this one inherits from have 1 problem; the first: themes/cycle_b.toml:1:12: `inherits` makes a cycle",
    );
}

#[test]
fn inheriting_itself_without_a_builtin_is_an_error() {
    let h = TestHome::with(&["self_inherit.toml"]);
    assert_one(
        &h.load_err("self_inherit"),
        "themes/self_inherit.toml:1:12: a theme cannot inherit from itself",
    );
}

#[test]
fn unknown_scope_is_only_a_warning() {
    let h = TestHome::with(&["unknown_scope.toml"]);
    let (theme, warnings) = load(&h.home, "unknown_scope").unwrap();
    assert_eq!(theme.text(), Theme::builtin("dark").unwrap().text());
    let shown = h.show(&warnings);
    assert_one(
        &shown,
        "themes/unknown_scope.toml:3:1: warning: unknown scope `ui.statusbar` is ignored: did you mean `ui.statusline`?",
    );
    assert!(warnings.iter().all(is_warning));
    let path = h.path("unknown_scope.toml");
    let src = std::fs::read_to_string(&path).unwrap();
    assert_eq!(validate_file(&path, &src, &h.home), warnings);
}

#[test]
fn errors_of_inherited_files_are_reported_there_and_summarised_here() {
    let h = TestHome::with(&["broken_parent.toml", "bad_colour.toml"]);
    assert_one(
        &h.load_err("broken_parent"),
        "themes/bad_colour.toml:3:22: `#12345` is not a colour",
    );
    let path = h.path("broken_parent.toml");
    let src = std::fs::read_to_string(&path).unwrap();
    let diags = h.show(&validate_file(&path, &src, &h.home));
    assert_one(
        &diags,
        "themes/broken_parent.toml:2:12: the themes this one inherits from have 1 problem; the first: themes/bad_colour.toml:3:22:",
    );
}

#[test]
fn validate_reports_the_text_it_is_given() {
    let h = TestHome::with(&[]);
    let path = h.path("new.toml");
    let diags = validate_file(
        &path,
        "inherits = \"light\"\n\"ui.text\" = { fg = \"nope\" }\n",
        &h.home,
    );
    let shown = h.show(&diags);
    assert_one(&shown, "themes/new.toml:2:20: unknown colour `nope`");
    assert!(!is_warning(&diags[0]));
}

#[test]
fn unknown_or_unsafe_theme_names_are_errors() {
    let h = TestHome::with(&["child.toml"]);
    assert_one(
        &h.load_err("chlid"),
        "themes/chlid.toml:1:1: no theme named `chlid`: did you mean `child`?",
    );
    assert_one(
        &h.load_err("../config"),
        "themes/../config.toml:1:1: `../config` is not a theme name",
    );
}

#[test]
fn no_color_drops_colours_and_keeps_things_visible() {
    let theme = Theme::builtin("dark").unwrap().adapt(ColorSupport::None);
    for s in scope::SCOPES {
        let style = theme.style(s.name);
        assert_eq!((style.fg, style.bg), (None, None), "{}", s.name);
    }
    assert!(theme.selection().add_modifier.contains(Modifier::REVERSED));
    assert!(
        theme
            .style(scope::UI_STATUSLINE)
            .add_modifier
            .contains(Modifier::REVERSED)
    );
    assert!(
        theme
            .search_match(false)
            .add_modifier
            .contains(Modifier::UNDERLINED)
    );
    // Modifiers from the theme stay.
    let failed = crate::engine::HostState::Failed {
        outcome: crate::engine::ExitOutcome::Code { code: 1 },
    };
    assert!(theme.state(&failed).add_modifier.contains(Modifier::BOLD));
}

#[test]
fn ansi256_and_ansi16_replace_rgb() {
    for (name, _) in BUILTIN {
        let t256 = Theme::builtin(name).unwrap().adapt(ColorSupport::Ansi256);
        let t16 = Theme::builtin(name).unwrap().adapt(ColorSupport::Ansi16);
        for s in scope::SCOPES {
            for c in [t256.style(s.name).fg, t256.style(s.name).bg]
                .into_iter()
                .flatten()
            {
                assert!(!matches!(c, Color::Rgb(..)), "{name} 256: {} {c:?}", s.name);
            }
            for c in [t16.style(s.name).fg, t16.style(s.name).bg]
                .into_iter()
                .flatten()
            {
                assert!(
                    !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                    "{name} 16: {} {c:?}",
                    s.name
                );
            }
        }
    }
    let dark16 = Theme::builtin("dark").unwrap().adapt(ColorSupport::Ansi16);
    let ok = dark16.state(&crate::engine::HostState::Ok).fg;
    let failed = dark16
        .state(&crate::engine::HostState::Failed {
            outcome: crate::engine::ExitOutcome::Code { code: 1 },
        })
        .fg;
    assert_eq!(
        (ok, failed),
        (Some(Color::LightGreen), Some(Color::LightRed))
    );
    let truecolor = Theme::builtin("dark").unwrap();
    assert_eq!(truecolor.clone().adapt(ColorSupport::TrueColor), truecolor);
}
