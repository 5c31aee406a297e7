//! `fleetdeck check` on hosts.toml's agent hosts: the url, the pinned fingerprint and the token
//! file, judged by the agent transport's own `Endpoint` so the check and a real connect agree.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::diag::Diagnostic;
use crate::inventory::{AgentEndpoint, Host, TransportKind};
use crate::protocol::parse_fingerprint;
use crate::transport::agent::{Endpoint, TokenScope, is_loopback};

/// Where the agent settings are written. The inventory loader has already validated the file
/// and keeps no positions, so this reads only the spans; other keys are ignored.
#[derive(Deserialize)]
struct Positions {
    #[serde(default)]
    hosts: Vec<EntryPositions>,
}

#[derive(Deserialize)]
struct EntryPositions {
    name: String,
    #[serde(default)]
    agent: Option<AgentPositions>,
}

#[derive(Deserialize)]
struct AgentPositions {
    url: Spanned<String>,
    #[serde(default)]
    token_file: Option<Spanned<String>>,
    #[serde(default)]
    read_token_file: Option<Spanned<String>>,
    #[serde(default)]
    fingerprint: Option<Spanned<String>>,
}

/// Problems and warnings of every `agent = { … }` table in `hosts` (the text `src`), which the
/// inventory loader accepted. One finding per entry: a node-set entry shares one table.
pub(super) fn check(
    hosts: &Path,
    src: &str,
    problems: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) {
    let Ok(file) = toml::from_str::<Positions>(src) else {
        // Cannot happen after a successful load; the loader has reported any syntax error.
        return;
    };
    // Relative token paths are taken from hosts.toml's folder, as the transport does.
    let base_dir = hosts.parent().unwrap_or(Path::new("."));
    let at = |offset: usize, msg: String| Diagnostic::at_offset(hosts, src, offset, msg);
    for entry in &file.hosts {
        let Some(agent) = &entry.agent else { continue };
        let name = &entry.name;
        let mut host = Host::ad_hoc(name);
        host.transport = TransportKind::Agent;
        host.agent = Some(AgentEndpoint {
            url: agent.url.get_ref().clone(),
            token_file: agent.token_file.as_ref().map(|t| t.get_ref().clone()),
            read_token_file: agent.read_token_file.as_ref().map(|t| t.get_ref().clone()),
            fingerprint: agent.fingerprint.as_ref().map(|f| f.get_ref().clone()),
        });
        let endpoint = match Endpoint::resolve(&host, base_dir) {
            Ok(endpoint) => endpoint,
            Err(e) => {
                let offset = match &agent.fingerprint {
                    Some(fp) if is_fingerprint_error(fp.get_ref(), &e.message) => fp.span().start,
                    // The url decides everything else (scheme, host, port, whether a pin is
                    // needed).
                    _ => agent.url.span().start,
                };
                problems.push(at(offset, for_host(name, &e.message)));
                continue;
            }
        };
        let files = [
            (&agent.token_file, TokenScope::Exec, "exec.token"),
            (&agent.read_token_file, TokenScope::Read, "read.token"),
        ];
        if files.iter().all(|(written, _, _)| written.is_none()) {
            // Without either every connect fails; read_token says what to add.
            if let Err(e) = endpoint.read_token(name) {
                problems.push(at(agent.url.span().start, for_host(name, &e.message)));
            }
            continue;
        }
        for (written, scope, copy) in files {
            let Some(written) = written else { continue };
            let endpoint = Endpoint {
                scope,
                ..endpoint.clone()
            };
            check_token_file(
                &endpoint,
                name,
                copy,
                written.span().start,
                problems,
                warnings,
                at,
            );
        }
    }
}

/// One token file of an agent host: present (a loopback agent's must be; a remote one's may be
/// on the console's machine only), readable and not empty. The token itself is dropped here
/// and never printed.
fn check_token_file(
    endpoint: &Endpoint,
    name: &str,
    copy: &str,
    offset: usize,
    problems: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
    at: impl Fn(usize, String) -> Diagnostic,
) {
    let Ok(path) = endpoint.token_path(name) else {
        return;
    };
    // Ok(false) only when it is surely absent; an unreadable folder on the way is left to
    // read_token below, which names the real error.
    if matches!(path.try_exists(), Ok(false)) {
        // A loopback agent runs where this console does, so its token must be here; a
        // remote one's hosts.toml may be checked on another machine than the console's.
        let message = format!(
            "host `{name}`: token file {} does not exist (copy the agent's {copy} there, \
             from `fleetdeck agent init`)",
            path.display()
        );
        if is_loopback(&endpoint.host) {
            problems.push(at(offset, message));
        } else {
            warnings.push(at(
                offset,
                format!("warning: {message}; fine if the console runs on another machine"),
            ));
        }
        return;
    }
    if let Err(e) = endpoint.read_token(name) {
        problems.push(at(offset, for_host(name, &e.message)));
    }
}

/// Whether the endpoint's error is the fingerprint failing to parse (so it points there).
fn is_fingerprint_error(fingerprint: &str, message: &str) -> bool {
    parse_fingerprint(fingerprint).is_err_and(|e| message.ends_with(&e))
}

/// `NAME: message` from the transport as `host `NAME`: message`, like the loader's diagnostics.
fn for_host(name: &str, message: &str) -> String {
    let rest = message
        .strip_prefix(name)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(message);
    // The transport names the file for its own callers; here the diagnostic already does.
    let rest = rest.strip_prefix("hosts.toml: ").unwrap_or(rest);
    format!("host `{name}`: {rest}")
}
