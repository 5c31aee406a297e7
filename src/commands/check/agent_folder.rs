//! `fleetdeck check` on the agent folder: agent.toml (policy and watchers) and tokens.toml,
//! through the agent's own loaders so the check says exactly what `agent run` would.

use std::path::Path;

use crate::agent::policy::AgentConfig;
use crate::agent::tokens::TokenStore;
use crate::diag::Diagnostic;

/// Checks the agent folder `dir` if there is one (a console-only machine has none). A missing
/// agent.toml or tokens.toml in an existing folder is a warning: `agent run` refuses to start
/// without them, but the folder may be mid-setup.
pub(super) fn check(
    dir: &Path,
    ok_lines: &mut Vec<String>,
    problems: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) {
    if !dir.is_dir() {
        return;
    }
    let config = dir.join("agent.toml");
    if present(&config, warnings) {
        match AgentConfig::load(dir) {
            Ok(loaded) => ok_lines.push(format!(
                "ok  {} ({} watcher(s))",
                config.display(),
                loaded.watchers.len()
            )),
            Err(diags) => problems.extend(diags),
        }
    }
    let tokens = dir.join("tokens.toml");
    if present(&tokens, warnings) {
        match TokenStore::load(dir) {
            Ok(_) => ok_lines.push(format!("ok  {}", tokens.display())),
            Err(d) => problems.push(d),
        }
    }
}

/// Whether `file` is there to be checked; a warning says what is missing otherwise. Anything
/// that exists (even a folder or an unreadable file) goes to the loader, which names the problem.
fn present(file: &Path, warnings: &mut Vec<Diagnostic>) -> bool {
    if file.symlink_metadata().is_ok() {
        return true;
    }
    warnings.push(Diagnostic::whole_file(
        file,
        "warning: missing, so `fleetdeck agent run` will not start with this folder (`fleetdeck \
         agent init --force` writes a new one)",
    ));
    false
}
