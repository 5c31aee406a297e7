//! `fleetdeck check`: validate every configuration file there is and report every problem as
//! `file:line:column: message`. Exit 2 if there is any.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::{Home, Settings};
use crate::diag::{Diagnostic, Error};
use crate::inventory::load;
use crate::ui::printers::write_stdout;

pub fn run(home: &Home) -> Result<ExitCode, Error> {
    let mut ok_lines = Vec::new();
    let mut problems: Vec<Diagnostic> = Vec::new();

    let config = home.config_file();
    if config.exists() {
        match Settings::load(&config) {
            Ok(_) => ok_lines.push(format!("ok  {}", config.display())),
            Err(d) => problems.push(d),
        }
    }
    let hosts = home.hosts_file();
    if hosts.exists() {
        match load::load(&hosts) {
            Ok(inv) => ok_lines.push(format!("ok  {} ({} hosts)", hosts.display(), inv.len())),
            Err(d) => problems.extend(d),
        }
    }
    // Templates, themes and keymaps get full validation with the features that read them;
    // until then a file there is at least checked to be well-formed TOML.
    for dir in [home.actions_dir(), home.themes_dir(), home.keymaps_dir()] {
        for file in toml_files(&dir, &mut problems) {
            match std::fs::read_to_string(&file) {
                Ok(src) => match crate::config::toml_diag::parse_toml::<toml::Table>(&file, &src) {
                    Ok(_) => ok_lines.push(format!("ok  {}", file.display())),
                    Err(d) => problems.push(d),
                },
                Err(e) => problems.push(Diagnostic::whole_file(&file, format!("cannot read: {e}"))),
            }
        }
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

/// `*.toml` files of a folder, sorted; a missing folder has none.
fn toml_files(dir: &Path, problems: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            problems.push(Diagnostic::whole_file(
                dir,
                format!("cannot list folder: {e}"),
            ));
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    files
}
