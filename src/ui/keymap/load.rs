//! Loading the keymap named by `[ui] keymap`: the built-in vim keys, with the user's
//! `keymaps/NAME.toml` merged over them when there is one.

use std::io::ErrorKind;
use std::path::Path;

use super::map::Keymap;
use super::parse::{Finding, Severity};
use super::validate::check_file;
use crate::config::Home;
use crate::diag::{Diagnostic, did_you_mean};

/// The name of the built-in keymap.
pub const BUILTIN_NAME: &str = "vim";

/// The shipped keymap, compiled in so the binary works without any files.
pub const BUILTIN_SOURCE: &str = include_str!("../../../keymaps/vim.toml");

/// Where built-in diagnostics point (the file in fleetdeck's sources).
const BUILTIN_PATH: &str = "keymaps/vim.toml (built in)";

/// The built-in keymap alone. Its file is checked by a test, so an error here is a bug in
/// fleetdeck, still reported rather than panicking.
pub fn builtin() -> Result<Keymap, Vec<Diagnostic>> {
    let parsed = check_file(Path::new(BUILTIN_PATH), BUILTIN_SOURCE);
    if parsed.has_errors() {
        return Err(errors(parsed.findings));
    }
    Ok(Keymap::from_sections(parsed.into_bindings()))
}

/// Loads keymap `name`: `keymaps/NAME.toml` from the config folder merged over the built-in
/// keys, or the built-in keys alone for `vim` when the user has no `keymaps/vim.toml`.
/// `Ok` carries warnings (keys a tmux prefix would swallow); `Err` carries the errors.
pub fn load(home: &Home, name: &str) -> Result<(Keymap, Vec<Diagnostic>), Vec<Diagnostic>> {
    let base = builtin()?;
    if !is_plain_name(name) {
        return Err(vec![Diagnostic::whole_file(
            &home.config_file(),
            format!(
                "keymap `{name}` is not a keymap name: [ui] keymap takes `{BUILTIN_NAME}` or the \
                 name of a file in {} without `.toml`",
                home.keymaps_dir().display()
            ),
        )]);
    }
    let path = home.keymaps_dir().join(format!("{name}.toml"));
    let src = match std::fs::read_to_string(&path) {
        Ok(src) => src,
        Err(e) if e.kind() == ErrorKind::NotFound && name == BUILTIN_NAME => {
            return Ok((base, Vec::new()));
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(vec![missing(home, name, &path)]);
        }
        Err(e) => {
            return Err(vec![Diagnostic::whole_file(
                &path,
                format!("cannot read keymap: {e}"),
            )]);
        }
    };
    merge_user(&base, &path, &src)
}

/// `base` with the user keymap `path` (text `src`) merged over it.
pub fn merge_user(
    base: &Keymap,
    path: &Path,
    src: &str,
) -> Result<(Keymap, Vec<Diagnostic>), Vec<Diagnostic>> {
    let parsed = check_file(path, src);
    if parsed.has_errors() {
        return Err(errors(parsed.findings));
    }
    let warnings = parsed
        .findings
        .iter()
        .map(|f| f.diagnostic.clone())
        .collect();
    Ok((base.merged(parsed.into_bindings()), warnings))
}

/// Keymap names there are: the built-in one and the user's files, sorted.
pub fn available(home: &Home) -> Vec<String> {
    let mut names = vec![BUILTIN_NAME.to_string()];
    if let Ok(entries) = std::fs::read_dir(home.keymaps_dir()) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
            {
                names.push(stem.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

fn missing(home: &Home, name: &str, path: &Path) -> Diagnostic {
    let names = available(home);
    let hint = match did_you_mean(name, names.iter().map(String::as_str)) {
        Some(best) => format!("did you mean `{best}`? "),
        None => String::new(),
    };
    Diagnostic::whole_file(
        &home.config_file(),
        format!(
            "[ui] keymap = \"{name}\": there is no {} ({hint}available: {}); create the file \
             or pick an available keymap",
            path.display(),
            names.join(", ")
        ),
    )
}

/// A file stem that stays inside the keymaps folder.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\'])
}

fn errors(findings: Vec<Finding>) -> Vec<Diagnostic> {
    findings
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.diagnostic)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::keymap::{Action, Context, Lookup, key::parse_sequence};

    fn keys(text: &str) -> Vec<super::super::Key> {
        parse_sequence(text).unwrap()
    }

    fn home_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Home) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::under(dir.path());
        std::fs::create_dir_all(home.keymaps_dir()).unwrap();
        for (name, src) in files {
            std::fs::write(home.keymaps_dir().join(name), src).unwrap();
        }
        (dir, home)
    }

    #[test]
    fn vim_without_user_file_is_the_builtin() {
        let (_dir, home) = home_with(&[]);
        let (km, warnings) = load(&home, "vim").unwrap();
        assert!(warnings.is_empty());
        assert_eq!(
            km.lookup_keys(Context::Fleet, &keys("g g")),
            Lookup::Matched(Action::Top)
        );
    }

    #[test]
    fn user_file_merges_over_builtin() {
        let (_dir, home) = home_with(&[(
            "mine.toml",
            "[global]\n\"q\" = \"<disabled>\"\n\"g\" = \"top\"\n\"C-b\" = \"half_page_up\"\n\
             [pane]\n\"F\" = \"follow\"\n\"f\" = \"<disabled>\"\n",
        )]);
        let (km, warnings) = load(&home, "mine").unwrap();
        // The tmux warning comes back but does not stop loading.
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].to_string().contains("mine.toml:4:1: warning:"));
        assert_eq!(
            km.lookup_keys(Context::Global, &keys("q")),
            Lookup::NotFound
        );
        // `g` replaced the chord `g g`: no more waiting after `g`.
        assert_eq!(
            km.lookup_keys(Context::Global, &keys("g")),
            Lookup::Matched(Action::Top)
        );
        assert_eq!(
            km.lookup_keys(Context::Pane, &keys("F")),
            Lookup::Matched(Action::Follow)
        );
        assert_eq!(km.lookup_keys(Context::Pane, &keys("f")), Lookup::NotFound);
        // Untouched built-in keys still work.
        assert_eq!(
            km.lookup_keys(Context::Fleet, &keys("j")),
            Lookup::Matched(Action::MoveDown)
        );
    }

    #[test]
    fn a_user_vim_file_overrides_the_builtin_vim() {
        let (_dir, home) = home_with(&[("vim.toml", "[global]\n\"x\" = \"quit\"\n")]);
        let (km, _) = load(&home, "vim").unwrap();
        assert_eq!(
            km.lookup_keys(Context::Global, &keys("x")),
            Lookup::Matched(Action::Quit)
        );
    }

    #[test]
    fn errors_in_user_file_stop_loading() {
        let (_dir, home) = home_with(&[("bad.toml", "[global]\n\"j\" = \"move_dwn\"\n")]);
        let errs = load(&home, "bad").unwrap_err();
        assert_eq!(errs.len(), 1);
        let text = errs[0].to_string();
        assert!(
            text.ends_with("bad.toml:2:7: unknown action `move_dwn`: did you mean `move_down`?"),
            "{text}"
        );
    }

    #[test]
    fn missing_keymap_names_the_choices() {
        let (_dir, home) = home_with(&[("emacs.toml", "")]);
        let errs = load(&home, "emcas").unwrap_err();
        let text = errs[0].to_string();
        assert!(
            text.contains("config.toml:1:1: [ui] keymap = \"emcas\""),
            "{text}"
        );
        assert!(text.contains("did you mean `emacs`?"), "{text}");
        assert!(text.contains("available: emacs, vim"), "{text}");
        assert!(load(&home, "../etc/passwd").is_err());
    }
}
