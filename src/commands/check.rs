//! `fleetdeck check`: validate every configuration file there is and report every problem as
//! `file:line:column: message`. Exit 2 if there is any. The agent's files (its folder under
//! the home, and the agent hosts of hosts.toml) are checked in `check/`.

mod agent_folder;
mod agent_hosts;
mod checks;
mod thresholds;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::{Home, Settings};
use crate::diag::{Diagnostic, Error};
use crate::inventory::load;
use crate::ui::printers::write_stdout;
use crate::ui::{keymap, theme};

pub fn run(home: &Home) -> Result<ExitCode, Error> {
    let mut ok_lines = Vec::new();
    let mut problems: Vec<Diagnostic> = Vec::new();

    let config = home.config_file();
    let mut settings = None;
    if config.exists() {
        match Settings::load(&config) {
            Ok(loaded) => {
                match chosen_names_problems(home, &config, &loaded) {
                    found if found.is_empty() => {
                        ok_lines.push(format!("ok  {}", config.display()));
                    }
                    found => problems.extend(found),
                }
                settings = Some(loaded);
            }
            Err(d) => problems.push(d),
        }
    }
    let mut warnings: Vec<Diagnostic> = Vec::new();
    let hosts = home.hosts_file();
    let mut inventory = None;
    if hosts.exists() {
        match load::load(&hosts) {
            Ok(inv) => {
                if let Some(settings) = &settings {
                    let found = thresholds::check(&config, settings, &inv);
                    if !found.is_empty() {
                        let ok = format!("ok  {}", config.display());
                        ok_lines.retain(|l| *l != ok);
                    }
                    problems.extend(found);
                }
                // The loader read it a moment ago; the agent checks need the text for positions.
                let src = std::fs::read_to_string(&hosts).unwrap_or_default();
                let before = problems.len();
                agent_hosts::check(&hosts, &src, &mut problems, &mut warnings);
                if problems.len() == before {
                    ok_lines.push(format!("ok  {} ({} hosts)", hosts.display(), inv.len()));
                }
                inventory = Some(inv);
            }
            Err(d) => problems.extend(d),
        }
    }
    // Action templates: each file fully (placeholders, params, regexes, defaults, guards),
    // and a name defined in two files is reported on the second, naming the first.
    let mut action_names: std::collections::BTreeMap<String, PathBuf> = Default::default();
    for_each_file(
        &home.actions_dir(),
        &mut ok_lines,
        &mut problems,
        |file, src| match crate::action::template::parse(file, src) {
            Ok(t) => match action_names.get(&t.name) {
                Some(first) => vec![Diagnostic::whole_file(
                    file,
                    format!(
                        "action `{}` is already defined in {}: rename one",
                        t.name,
                        first.display()
                    ),
                )],
                None => {
                    action_names.insert(t.name, file.to_path_buf());
                    Vec::new()
                }
            },
            Err(diags) => diags,
        },
    );
    // `[[checks]]` name groups and actions: checked against hosts.toml and the templates.
    if let Some(settings) = &settings {
        let (catalog, _reported_above) = crate::action::Catalog::load_partial(home);
        let found = checks::check(&config, settings, inventory.as_ref(), &catalog);
        if !found.is_empty() {
            let ok = format!("ok  {}", config.display());
            ok_lines.retain(|l| *l != ok);
        }
        problems.extend(found);
    }
    // runbooks.toml names actions: checked against the templates that load.
    let runbooks = home.runbooks_file();
    if runbooks.exists() {
        let (catalog, _reported_above) = crate::action::Catalog::load_partial(home);
        match crate::incident::runbook::Runbooks::load_file(&runbooks, &catalog) {
            Ok(books) => ok_lines.push(format!(
                "ok  {} ({} rules)",
                runbooks.display(),
                books.len()
            )),
            Err(diags) => problems.extend(diags),
        }
    }
    for_each_file(
        &home.themes_dir(),
        &mut ok_lines,
        &mut problems,
        |file, src| {
            let (warn, errors): (Vec<_>, Vec<_>) = theme::validate_file(file, src, home)
                .into_iter()
                .partition(theme::is_warning);
            warnings.extend(warn);
            errors
        },
    );
    for_each_file(
        &home.keymaps_dir(),
        &mut ok_lines,
        &mut problems,
        |file, src| {
            let (warn, errors): (Vec<_>, Vec<_>) = keymap::validate_file(file, src)
                .into_iter()
                .partition(keymap::is_warning);
            warnings.extend(warn);
            errors
        },
    );
    agent_folder::check(
        &home.agent_dir(),
        &mut ok_lines,
        &mut problems,
        &mut warnings,
    );
    for d in &warnings {
        eprintln!("{d}");
    }

    if ok_lines.is_empty() && problems.is_empty() {
        write_stdout(&format!(
            "no configuration files in {} yet: every setting is at its default\n",
            home.config_dir.display()
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = ok_lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    write_stdout(&text)?;
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let files: std::collections::BTreeSet<&Path> =
        problems.iter().map(|d| d.file.as_path()).collect();
    let noun = if problems.len() == 1 {
        "problem"
    } else {
        "problems"
    };
    let summary = format!("{} {noun} in {} file(s)", problems.len(), files.len());
    // Diagnostics go to stderr like a compiler's; the summary last.
    for d in &problems {
        eprintln!("{d}");
    }
    eprintln!("{summary}");
    Ok(ExitCode::from(2))
}

/// The theme and keymap config.toml names must exist. Problems inside a user file are
/// reported for that file; here only a missing one is, at config.toml's `theme`/`keymap` line.
fn chosen_names_problems(home: &Home, config: &Path, settings: &Settings) -> Vec<Diagnostic> {
    let src = std::fs::read_to_string(config).unwrap_or_default();
    let mut found = Vec::new();
    let theme_name = &settings.ui.theme;
    if !home
        .themes_dir()
        .join(format!("{theme_name}.toml"))
        .exists()
        && let Err(diags) = theme::load(home, theme_name)
    {
        found.push(at_key(config, &src, "theme", &diags));
    }
    let keymap_name = &settings.ui.keymap;
    if !home
        .keymaps_dir()
        .join(format!("{keymap_name}.toml"))
        .exists()
        && let Err(diags) = keymap::load(home, keymap_name)
    {
        found.push(at_key(config, &src, "keymap", &diags));
    }
    found
}

/// The first of `diags`, moved to the value of `key` in config.toml.
fn at_key(config: &Path, src: &str, key: &str, diags: &[Diagnostic]) -> Diagnostic {
    let offset = key_offset(src, key).unwrap_or(0);
    let message = diags.first().map_or_else(
        || format!("`{key}` cannot be loaded"),
        |d| d.message.clone(),
    );
    Diagnostic::at_offset(config, src, offset, message)
}

/// Byte offset of the value of `key = …` in a TOML text (first occurrence).
fn key_offset(src: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            let eq = line.find('=')?;
            let value = line[eq + 1..].len() - line[eq + 1..].trim_start().len();
            return Some(offset + eq + 1 + value);
        }
        offset += line.len();
    }
    None
}

/// Runs `validate` on every `*.toml` file of `dir`, recording an ok line or its problems.
fn for_each_file(
    dir: &Path,
    ok_lines: &mut Vec<String>,
    problems: &mut Vec<Diagnostic>,
    mut validate: impl FnMut(&Path, &str) -> Vec<Diagnostic>,
) {
    for file in crate::config::toml_diag::toml_files(dir, problems) {
        match std::fs::read_to_string(&file) {
            Ok(src) => {
                let found = validate(&file, &src);
                if found.is_empty() {
                    ok_lines.push(format!("ok  {}", file.display()));
                }
                problems.extend(found);
            }
            Err(e) => problems.push(Diagnostic::whole_file(&file, format!("cannot read: {e}"))),
        }
    }
}
