//! Finding a theme by name (user files in `themes/`, then the built-in ones), following
//! `inherits`, and validating a theme file for `fleetdeck check`.

use std::path::{Path, PathBuf};

use super::Theme;
use super::parse::{ThemeFile, WARNING_PREFIX, suggest};
use super::resolve::resolve;
use crate::config::Home;
use crate::diag::Diagnostic;

/// The shipped themes, built into the binary. The first is the default.
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../../themes/dark.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
];

/// Whether a diagnostic of `load` or `validate_file` is a warning (the theme still works).
pub fn is_warning(d: &Diagnostic) -> bool {
    d.message.starts_with(WARNING_PREFIX)
}

/// Loads theme `name`: `themes/NAME.toml` in the home if there is one, else the built-in
/// theme of that name. `Ok` carries warnings (unknown scopes); `Err` every error of every
/// file in the `inherits` chain, at file:line:column. Never falls back to another theme.
pub fn load(home: &Home, name: &str) -> Result<(Theme, Vec<Diagnostic>), Vec<Diagnostic>> {
    load_from(Some(home), name)
}

/// Every theme name there is: built-in ones and user files, sorted (for `:theme` completion).
pub fn available(home: &Home) -> Vec<String> {
    let mut names: Vec<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
    names.extend(user_themes(Some(home)));
    names.sort();
    names.dedup();
    names
}

pub(super) fn load_from(
    home: Option<&Home>,
    name: &str,
) -> Result<(Theme, Vec<Diagnostic>), Vec<Diagnostic>> {
    let where_ = home.map_or_else(|| PathBuf::from("themes"), Home::themes_dir);
    let not_found = |message: String| {
        vec![Diagnostic::whole_file(
            &where_.join(format!("{name}.toml")),
            message,
        )]
    };
    if let Err(message) = check_name(name) {
        return Err(not_found(message));
    }
    let Some(source) = find(home, name, None) else {
        return Err(not_found(format!(
            "no theme named `{name}`{}",
            known_names_hint(home, name)
        )));
    };
    let first = source.read().map_err(|d| vec![d])?;
    let chain = follow(home, first, source);
    let mut errors = chain.errors;
    let mut warnings = Vec::new();
    for file in &chain.files {
        errors.extend(file.errors.iter().cloned());
        warnings.extend(file.warnings.iter().cloned());
    }
    let styles = resolve(&chain.files);
    match styles {
        Ok(styles) if errors.is_empty() => {
            sort(&mut warnings);
            Ok((Theme::new(name, styles), warnings))
        }
        Ok(_) => Err(sorted(errors)),
        Err(more) => {
            errors.extend(more);
            Err(sorted(errors))
        }
    }
}

/// Every problem of the theme file `path` (its text is `src`) for `fleetdeck check`:
/// TOML, colours, palette names, keys, modifiers, `inherits` (unknown, cycles) and unknown
/// scopes (those as warnings, see `is_warning`). Problems in the themes it inherits from are
/// reported at its `inherits` line, since `check` reports those files themselves too.
pub fn validate_file(path: &Path, src: &str, home: &Home) -> Vec<Diagnostic> {
    let first = ThemeFile::parse(path, src.to_string());
    let inherits_at = first.inherits.as_ref().map(|(_, span)| first.at(span, ""));
    let chain = follow(Some(home), first, Source::User(path.to_path_buf()));
    let mut own = Vec::new();
    let mut elsewhere = Vec::new();
    let mut split = |d: Diagnostic| {
        if d.file == path {
            own.push(d);
        } else {
            elsewhere.push(d);
        }
    };
    chain.errors.into_iter().for_each(&mut split);
    if let Some((me, ancestors)) = chain.files.split_first() {
        me.errors
            .iter()
            .chain(&me.warnings)
            .cloned()
            .for_each(&mut split);
        ancestors
            .iter()
            .flat_map(|f| f.errors.iter().cloned())
            .for_each(&mut split);
    }
    if let Err(errors) = resolve(&chain.files) {
        errors.into_iter().for_each(&mut split);
    }
    if let (Some(first), Some(at)) = (elsewhere.first(), inherits_at) {
        let count = elsewhere.len();
        let noun = if count == 1 { "problem" } else { "problems" };
        own.push(Diagnostic {
            message: format!(
                "the themes this one inherits from have {count} {noun}; the first: {first}"
            ),
            ..at
        });
    }
    sorted(own)
}

/// Where a theme's text comes from; also what identifies it when looking for cycles.
#[derive(Debug, Clone)]
enum Source {
    Builtin(&'static str, &'static str),
    User(PathBuf),
}

impl Source {
    fn label(&self) -> PathBuf {
        match self {
            Source::Builtin(name, _) => PathBuf::from(format!("<built-in>/{name}.toml")),
            Source::User(path) => path.clone(),
        }
    }

    fn read(&self) -> Result<ThemeFile, Diagnostic> {
        match self {
            Source::Builtin(_, src) => Ok(ThemeFile::parse(&self.label(), (*src).to_string())),
            Source::User(path) => std::fs::read_to_string(path)
                .map(|src| ThemeFile::parse(path, src))
                .map_err(|e| {
                    Diagnostic::whole_file(
                        path,
                        format!("cannot read theme: {e}; check the file's permissions"),
                    )
                }),
        }
    }

    /// The same theme, even when one path is relative and the other absolute.
    fn same(&self, other: &Source) -> bool {
        match other {
            Source::Builtin(name, _) => matches!(self, Source::Builtin(n, _) if n == name),
            Source::User(path) => self.is_file(path),
        }
    }

    fn is_file(&self, path: &Path) -> bool {
        let Source::User(mine) = self else {
            return false;
        };
        mine == path
            || matches!(
                (mine.canonicalize(), path.canonicalize()),
                (Ok(a), Ok(b)) if a == b
            )
    }
}

/// The theme `name` as seen from `from` (the file whose `inherits` names it, if any). A user
/// file shadows the built-in of the same name, except for itself: `dark.toml` saying
/// `inherits = "dark"` means the built-in dark. Built-in themes only inherit built-in ones,
/// so a user file cannot change them from below.
fn find(home: Option<&Home>, name: &str, from: Option<&Source>) -> Option<Source> {
    let from_builtin = matches!(from, Some(Source::Builtin(..)));
    if let Some(home) = home.filter(|_| !from_builtin) {
        let user = home.themes_dir().join(format!("{name}.toml"));
        if user.is_file() && !from.is_some_and(|f| f.is_file(&user)) {
            return Some(Source::User(user));
        }
    }
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(n, src)| Source::Builtin(n, src))
}

struct Chain {
    /// The theme first, then each theme it inherits from.
    files: Vec<ThemeFile>,
    /// Problems with `inherits` itself: unknown names, cycles, unreadable files.
    errors: Vec<Diagnostic>,
}

fn follow(home: Option<&Home>, first: ThemeFile, source: Source) -> Chain {
    let mut sources = vec![source];
    let mut chain = Chain {
        files: vec![first],
        errors: Vec::new(),
    };
    while let (Some(last), Some(last_source)) = (chain.files.last(), sources.last()) {
        let Some((name, span)) = last.inherits.clone() else {
            break;
        };
        if let Err(message) = check_name(&name) {
            chain.errors.push(last.at(&span, message));
            break;
        }
        let Some(next) = find(home, &name, Some(last_source)) else {
            let message = if last_source
                .label()
                .file_stem()
                .is_some_and(|s| s == name.as_str())
            {
                format!(
                    "a theme cannot inherit from itself (`{name}` is no built-in theme): name another theme or remove `inherits`"
                )
            } else {
                format!(
                    "`inherits` names no theme: `{name}`{}",
                    known_names_hint(home, &name)
                )
            };
            chain.errors.push(last.at(&span, message));
            break;
        };
        if let Some(i) = sources.iter().position(|s| s.same(&next)) {
            let cycle: Vec<String> = sources[i..]
                .iter()
                .chain([&next])
                .map(|s| s.label().display().to_string())
                .collect();
            chain.errors.push(last.at(
                &span,
                format!(
                    "`inherits` makes a cycle: {}; remove `inherits` from one of these files",
                    cycle.join(" → ")
                ),
            ));
            break;
        }
        match next.read() {
            Ok(file) => {
                chain.files.push(file);
                sources.push(next);
            }
            Err(d) => {
                chain.errors.push(last.at(
                    &span,
                    format!("inherits `{name}`, which cannot be read: {d}"),
                ));
                break;
            }
        }
    }
    chain
}

/// Theme names become file names, so they may not reach outside `themes/`.
fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a theme name: use letters, digits, `-`, `_` and `.` (the file is themes/NAME.toml)"
        ))
    }
}

/// ": did you mean …? (built-in: …; user themes in DIR: …)".
fn known_names_hint(home: Option<&Home>, name: &str) -> String {
    let users = user_themes(home);
    let builtin = BUILTIN.iter().map(|(n, _)| *n);
    let hint = suggest(
        name,
        builtin.clone().chain(users.iter().map(String::as_str)),
    );
    let builtin: Vec<&str> = builtin.collect();
    let user_part = match home {
        Some(home) if users.is_empty() => {
            format!("; no user themes in {}", home.themes_dir().display())
        }
        Some(home) => format!(
            "; user themes in {}: {}",
            home.themes_dir().display(),
            users.join(", ")
        ),
        None => String::new(),
    };
    format!("{hint} (built-in: {}{user_part})", builtin.join(", "))
}

/// Names of the `*.toml` files in the home's themes folder; none when it cannot be listed
/// (loading the named file then reports the real problem).
fn user_themes(home: Option<&Home>) -> Vec<String> {
    let Some(Ok(entries)) = home.map(|h| std::fs::read_dir(h.themes_dir())) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    diags.dedup();
}

fn sorted(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    sort(&mut diags);
    diags
}
