//! `fleetdeck agent init`: the agent folder with its certificate, key, configuration and
//! tokens (stored hashed; the raw tokens go to two 0600 files for the operator, once).

use std::path::{Path, PathBuf};

use super::policy::{AgentConfig, DEFAULT_AGENT_TOML, local_host_name};
use super::{tls, tokens};
use crate::config::home::{ensure_private_dir, write_private_file};
use crate::protocol::{Scope, cert_fingerprint};

/// The port the printed hosts.toml snippet assumes (`agent run --listen` decides the real one).
pub const DEFAULT_PORT: u16 = 7443;

#[derive(Debug, Clone)]
pub struct InitOptions {
    pub dir: PathBuf,
    /// The agent's name (hello frame, snippet); default: the host name.
    pub name: Option<String>,
    /// Extra certificate subject names (DNS names or IPs); the first one is the snippet's URL host.
    pub sans: Vec<String>,
    /// Extra allowlist globs added to the default policy.
    pub allow: Vec<String>,
    pub force: bool,
}

/// What init made, for printing.
#[derive(Debug, Clone)]
pub struct InitReport {
    pub dir: PathBuf,
    pub fingerprint: String,
    /// The hosts.toml entry to paste on the console's machine.
    pub snippet: String,
    pub read_token_file: PathBuf,
    pub exec_token_file: PathBuf,
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Creates the agent folder. Refuses an existing non-empty folder unless `force`.
pub fn init(opts: &InitOptions) -> Result<InitReport, String> {
    let dir = &opts.dir;
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if occupied && !opts.force {
        return Err(format!(
            "{} already exists: pass --force to replace its certificate, tokens and agent.toml \
             (every console then needs the new fingerprint and token)",
            dir.display()
        ));
    }
    ensure_private_dir(dir).map_err(|e| e.to_string())?;

    let name = opts
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(local_host_name);
    let agent_toml = render_agent_toml(&name, &opts.allow);
    // Validate before writing anything, so a bad --allow glob leaves nothing half made.
    AgentConfig::parse(&dir.join("agent.toml"), &agent_toml, dir).map_err(|diags| {
        diags
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;

    let mut sans = opts.sans.clone();
    for default in [name.as_str(), "localhost", "127.0.0.1", "::1"] {
        if !sans.iter().any(|s| s == default) {
            sans.push(default.to_string());
        }
    }
    let identity = tls::generate(&sans)?;
    let read = tokens::generate()?;
    let exec = tokens::generate()?;

    let write = |file: &str, text: &str| -> Result<PathBuf, String> {
        let path = dir.join(file);
        write_private_file(&path, text.as_bytes()).map_err(|e| e.to_string())?;
        Ok(path)
    };
    write("cert.pem", &identity.cert_pem)?;
    write("key.pem", &identity.key_pem)?;
    write("agent.toml", &agent_toml)?;
    write(
        "tokens.toml",
        &tokens::render(&[(&read, Scope::Read), (&exec, Scope::Exec)]),
    )?;
    let read_token_file = write("read.token", &format!("{read}\n"))?;
    let exec_token_file = write("exec.token", &format!("{exec}\n"))?;

    let fingerprint = cert_fingerprint(&identity.cert_der);
    let url_host = opts.sans.first().cloned().unwrap_or_else(|| name.clone());
    let url_host = if url_host.contains(':') {
        format!("[{url_host}]")
    } else {
        url_host
    };
    let token_path = absolute(&exec_token_file);
    let snippet = format!(
        "[[hosts]]\nname = {}\ntransport = \"agent\"\nagent = {{ url = {}, token_file = {}, fingerprint = {} }}\n",
        toml_str(&name),
        toml_str(&format!("wss://{url_host}:{DEFAULT_PORT}")),
        toml_str(&token_path.to_string_lossy()),
        toml_str(&fingerprint),
    );
    Ok(InitReport {
        dir: dir.clone(),
        fingerprint,
        snippet,
        read_token_file,
        exec_token_file,
    })
}

fn absolute(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// The default agent.toml with this agent's name and any extra allowlist globs.
fn render_agent_toml(name: &str, extra_allow: &[String]) -> String {
    let mut text = DEFAULT_AGENT_TOML.replacen(
        "\nheartbeat = ",
        &format!("\nname = {}\nheartbeat = ", toml_str(name)),
        1,
    );
    if !extra_allow.is_empty() {
        let lines: String = extra_allow
            .iter()
            .map(|g| format!("  {},\n", toml_str(g)))
            .collect();
        text = text.replacen(
            "\n]\nforbidden_paths",
            &format!("\n{lines}]\nforbidden_paths"),
            1,
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_allow_lands_in_the_list() {
        let text = render_agent_toml("web \"01\"", &["/bin/sh".to_string()]);
        let cfg =
            AgentConfig::parse(Path::new("agent.toml"), &text, Path::new("/nonexistent")).unwrap();
        assert_eq!(cfg.name, "web \"01\"");
        assert!(
            cfg.policy
                .resolve_program("/bin/sh", Path::new("/"))
                .is_ok()
        );
    }
}
