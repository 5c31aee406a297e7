//! Host-key trust at connect time: which known_hosts files count, what an unknown, changed or
//! revoked key means, and the messages that tell an operator what to do.
//!
//! Policy:
//! - Consulted: the user's known_hosts files from the resolved ssh config (UserKnownHostsFile,
//!   GlobalKnownHostsFile), then `--known-hosts` files, then fleetdeck's own file.
//! - Unknown key: refused with its SHA256 fingerprint, unless `--accept-new` (or the host's
//!   `StrictHostKeyChecking accept-new` / `no`), in which case it is recorded in fleetdeck's
//!   own file (trust on first use) and accepted.
//! - Changed key: ALWAYS refused, whatever `--accept-new` or `StrictHostKeyChecking no` say;
//!   OpenSSH would connect with `no` (disabling only some features), fleetdeck does not run
//!   commands on a host that may be an impostor.
//! - Revoked key (`@revoked`): refused.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use russh::keys::PublicKey;

use super::config::{ResolvedHost, StrictMode};
use super::known_hosts::{self, HostKeyCheck, KnownHosts};

/// How one host's key is judged (built per connection attempt, used in `check_server_key`).
pub struct HostKeyPolicy {
    /// `h001 (127.0.0.1:2222)`, for messages.
    pub label: String,
    /// The name known_hosts is searched for: HostKeyAlias, else the host name.
    pub name: String,
    /// The port paired with `name`: 22 (no `[host]:port` form) when a HostKeyAlias is used,
    /// like OpenSSH.
    pub port: u16,
    /// Real address, for the ssh-keyscan hint.
    pub hostname: String,
    pub real_port: u16,
    pub files: Vec<PathBuf>,
    pub known: Arc<KnownHosts>,
    /// Where an unknown key is recorded when trust on first use is allowed.
    pub learn_into: Option<PathBuf>,
    /// Told when a key was learned, so cached known_hosts are reloaded.
    pub cache: Arc<KnownHostsCache>,
}

impl HostKeyPolicy {
    /// Accepts or refuses `key`; the error is the operator-facing reason.
    pub async fn verify(&self, key: &PublicKey) -> Result<(), String> {
        match self.known.check(&self.name, self.port, key) {
            HostKeyCheck::Known => {
                tracing::debug!(host = %self.label, "host key known");
                Ok(())
            }
            HostKeyCheck::Revoked { file, line } => Err(format!(
                "{}: the host key {} is marked @revoked in {}:{line}; refusing to connect",
                self.label,
                known_hosts::fingerprint(key),
                file.display()
            )),
            HostKeyCheck::Changed {
                fingerprint,
                file,
                line,
            } => Err(format!(
                "WARNING: {label}: the HOST KEY HAS CHANGED. The server now presents {algo} \
                 {fingerprint}, but {file}:{line} holds a different key for `{name}`. Someone \
                 could be intercepting the connection (man-in-the-middle), or the host was \
                 reinstalled. Refused; --accept-new never overrides a changed key. If the \
                 change is expected, verify the new fingerprint out of band, then remove the \
                 old entry: ssh-keygen -R '{name}' -f {file}",
                label = self.label,
                algo = key.algorithm().as_str(),
                file = file.display(),
                name = self.name,
            )),
            HostKeyCheck::Unknown { fingerprint } => match &self.learn_into {
                Some(file) => self.learn(file, key, &fingerprint).await,
                None => Err(self.unknown_message(key, &fingerprint)),
            },
        }
    }

    async fn learn(&self, file: &Path, key: &PublicKey, fingerprint: &str) -> Result<(), String> {
        let (file, name, port, owned_key) = (
            file.to_path_buf(),
            self.name.clone(),
            self.port,
            key.clone(),
        );
        let written = tokio::task::spawn_blocking(move || {
            known_hosts::learn(&file, &name, port, &owned_key).map(|()| file)
        })
        .await;
        match written {
            Ok(Ok(file)) => {
                self.cache.invalidate();
                tracing::info!(
                    host = %self.label, %fingerprint, file = %file.display(),
                    "new host key accepted (trust on first use)"
                );
                Ok(())
            }
            Ok(Err(e)) => Err(format!(
                "{}: cannot record the new host key {fingerprint}: {e}",
                self.label
            )),
            Err(e) => Err(format!(
                "{}: recording the new host key failed: {e}",
                self.label
            )),
        }
    }

    fn unknown_message(&self, key: &PublicKey, fingerprint: &str) -> String {
        let files = self
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let scan_port = if self.real_port == 22 {
            String::new()
        } else {
            format!("-p {} ", self.real_port)
        };
        let alias_note = if self.name == self.hostname {
            String::new()
        } else {
            format!(
                " (record it under the name `{}`, its HostKeyAlias)",
                self.name
            )
        };
        format!(
            "{}: unknown host key {} {fingerprint} (not in {files}). If this fingerprint is \
             right, rerun with --accept-new to trust it on first use, or add it to your \
             known_hosts: ssh-keyscan {scan_port}{}{alias_note}",
            self.label,
            key.algorithm().as_str(),
            self.hostname
        )
    }
}

/// Whether unknown keys may be learned for this host: `--accept-new`, or the user's own
/// config saying `StrictHostKeyChecking accept-new` or `no` (changed keys stay refused).
pub fn allows_first_use(accept_new: bool, resolved: &ResolvedHost) -> bool {
    accept_new
        || matches!(
            resolved.strict_host_key_checking,
            StrictMode::AcceptNew | StrictMode::No
        )
}

/// The known_hosts files consulted for a host, in order, without repeats.
pub fn files_for(
    resolved: &ResolvedHost,
    extra: &[PathBuf],
    fleetdeck_file: &Path,
) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = Vec::new();
    let all = resolved
        .known_hosts_files
        .iter()
        .chain(extra)
        .chain(std::iter::once(&fleetdeck_file.to_path_buf()))
        .cloned()
        .collect::<Vec<_>>();
    for f in all {
        if !files.contains(&f) {
            files.push(f);
        }
    }
    files
}

/// Parsed known_hosts per list of files, reloaded when a file changes (size or mtime) or a
/// key was learned: hundreds of connections share one parse.
#[derive(Default)]
pub struct KnownHostsCache {
    entries: Mutex<HashMap<Vec<PathBuf>, Cached>>,
}

/// Size and mtime of a file when it was read (`None`: missing).
type Stamp = Option<(u64, SystemTime)>;
type Cached = (Vec<Stamp>, Arc<KnownHosts>);

impl KnownHostsCache {
    pub async fn get(&self, files: &[PathBuf]) -> Result<Arc<KnownHosts>, String> {
        let key = files.to_vec();
        let stamps = stamps(files);
        if let Ok(map) = self.entries.lock()
            && let Some((seen, parsed)) = map.get(&key)
            && *seen == stamps
        {
            return Ok(parsed.clone());
        }
        let to_load = key.clone();
        let loaded = tokio::task::spawn_blocking(move || KnownHosts::load(&to_load))
            .await
            .map_err(|e| format!("reading known_hosts failed: {e}"))?
            .map_err(|e| e.to_string())?;
        let parsed = Arc::new(loaded);
        if let Ok(mut map) = self.entries.lock() {
            map.insert(key, (stamps, parsed.clone()));
        }
        Ok(parsed)
    }

    pub fn invalidate(&self) {
        if let Ok(mut map) = self.entries.lock() {
            map.clear();
        }
    }
}

fn stamps(files: &[PathBuf]) -> Vec<Stamp> {
    files
        .iter()
        .map(|f| {
            std::fs::metadata(f)
                .ok()
                .and_then(|m| Some((m.len(), m.modified().ok()?)))
        })
        .collect()
}
