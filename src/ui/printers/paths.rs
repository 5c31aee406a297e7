//! `fleetdeck paths` output.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{table, write_stdout};
use crate::config::{Home, HomeSource};
use crate::diag::Error;

pub struct PathRow {
    pub name: &'static str,
    pub what: &'static str,
    pub path: PathBuf,
}

impl PathRow {
    pub fn new(name: &'static str, what: &'static str, path: PathBuf) -> Self {
        Self { name, what, path }
    }
}

pub fn print_paths(home: &Home, rows: &[PathRow], json: bool) -> Result<(), Error> {
    let text = if json {
        let map: BTreeMap<&str, String> = rows
            .iter()
            .map(|r| (r.name, r.path.display().to_string()))
            .collect();
        serde_json::to_string(&map)
            .map_err(|e| Error::Invalid(format!("cannot encode JSON: {e}")))?
            + "\n"
    } else {
        render(home, rows)
    };
    write_stdout(&text)
}

fn render(home: &Home, rows: &[PathRow]) -> String {
    let source = match (home.source, &home.root) {
        (HomeSource::Explicit, Some(root)) => {
            format!("home: {} (--home / FLEETDECK_HOME)\n\n", root.display())
        }
        _ => {
            "home: XDG folders (set --home DIR or FLEETDECK_HOME to use one folder)\n\n".to_string()
        }
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let state = if r.path.exists() {
                ""
            } else {
                "(not created yet)"
            };
            vec![
                r.name.to_string(),
                r.path.display().to_string(),
                r.what.to_string(),
                state.to_string(),
            ]
        })
        .collect();
    source + &table(&["WHAT", "PATH", "HOLDS", ""], &cells)
}
