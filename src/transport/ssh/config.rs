//! What OpenSSH would use to reach a host: `~/.ssh/config` and `/etc/ssh/ssh_config` (or one
//! `--ssh-config FILE`, like `ssh -F`), resolved per host and checked against `ssh -G` in tests.
//!
//! Supported, with OpenSSH's semantics:
//! - Reading: `Key value` and `Key=value`, keywords in any case, `"…"` and `'…'` quotes,
//!   backslash escapes, `#` comments; `Include` (globs, `~`, relative to `~/.ssh` for user
//!   files and `/etc/ssh` for the system file, at most 16 deep, cycles reported) with an
//!   `Include` inside a `Host` block scoping the included blocks as ssh does; each top-level
//!   file starts in the global section. Values of the keywords below are checked on every
//!   line, as ssh does, and all problems are reported as `file:line:column: message`.
//! - Matching: `Host` patterns (`*`, `?`, `!` negation; matching is ssh2-config's, against
//!   the name as given, case-sensitive like ssh) and `Match all|host|originalhost|user|
//!   localuser` (with `!`, comma pattern lists). The first value of each keyword wins, in a
//!   block as across blocks; IdentityFile accumulates. ProxyJump and ProxyCommand: the first
//!   one seen wins (`none` included).
//! - Keywords: HostName (`%h`, `%%`), User, Port, IdentityFile (several; default
//!   `~/.ssh/id_rsa`, `id_ecdsa`, `id_ed25519` in OpenSSH's order), IdentitiesOnly,
//!   IdentityAgent (`none`, `SSH_AUTH_SOCK`, `$VAR`, a path), ProxyJump (`[user@]host[:port]`,
//!   `ssh://…`, `[v6]:port`, `none`), ConnectTimeout and ServerAliveInterval (`90`, `1m30s`),
//!   ServerAliveCountMax, HostKeyAlias, UserKnownHostsFile and GlobalKnownHostsFile (several,
//!   `none`), StrictHostKeyChecking (`yes|no|off|ask|accept-new`), and BatchMode only for
//!   its effect on the ServerAliveInterval default (300 s).
//! - Expansion in IdentityFile, IdentityAgent and UserKnownHostsFile: `~`, `${VAR}`, and
//!   `%% %C %d %h %i %j %k %L %l %n %p %r %u` (`%C` as OpenSSH 9.2: SHA-1 of `%l%h%p%r`).
//!   GlobalKnownHostsFile gets `~` only. Host names and HostKeyAlias are lowercased, as ssh does.
//!
//! Not supported: `Match exec|canonical|final|localnetwork|…` (the block never applies; a
//! warning says so, and `run --dry-run` shows it), `~user` paths, `CanonicalizeHostname`, and
//! ProxyCommand (resolving such a host is an error that says to use ProxyJump). Unknown
//! keywords are ignored rather than rejected, and file permissions are not checked.
//!
//! ssh2-config does the `Host` pattern matching; its `query()` is not used because it keeps
//! the last value within a block, fails the whole file on `ConnectTimeout 1m`, credits `Match`
//! blocks' settings to the block before them, knows neither `'` quotes nor `%` tokens, and
//! leaves half of the keywords above as raw strings.
//!
//! Inventory values act like ssh's command line and win over the config: `address` (as
//! HostName), `port`, `user`, `jump` (as ProxyJump). `Host` patterns match the inventory name.

mod eval;
mod expand;
pub(crate) mod glob;
pub(crate) mod lexer;

mod reader;
mod values;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::config::LocalUser;

use crate::diag::Error;
use crate::inventory::Host;
use eval::{Collected, Proxy, collect};
use expand::{Tokens, expand_host_name, expand_path, expand_tilde};
use reader::{Directive, Origin, TopFile, read};

/// Longest ProxyJump chain followed by [`SshConfigSource::jump_chain`] (loops end here).
pub const MAX_JUMP_DEPTH: usize = 16;

/// OpenSSH's default identities that fleetdeck can use, in the order ssh tries them.
const DEFAULT_IDENTITIES: [&str; 3] = ["~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ed25519"];
const DEFAULT_USER_KNOWN_HOSTS: [&str; 2] = ["~/.ssh/known_hosts", "~/.ssh/known_hosts2"];
const DEFAULT_GLOBAL_KNOWN_HOSTS: [&str; 2] =
    ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"];
const SYSTEM_CONFIG: &str = "/etc/ssh/ssh_config";
const DEFAULT_SERVER_ALIVE_COUNT_MAX: u32 = 3;
/// OpenSSH's ServerAliveInterval default under `BatchMode yes`.
const BATCH_SERVER_ALIVE_INTERVAL: Duration = Duration::from_secs(300);

/// StrictHostKeyChecking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictMode {
    /// Refuse unknown and changed keys.
    Yes,
    /// Record unknown keys (trust on first use); refuse changed keys.
    AcceptNew,
    /// Accept unknown keys (OpenSSH also records them); changed keys are still refused by
    /// fleetdeck.
    No,
    /// OpenSSH's default: ask the user. Treat as `Yes` when not interactive.
    Ask,
}

pub use crate::inventory::jump::JumpHop;

/// Everything needed to connect to one host, as `ssh -G` would print it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedHost {
    /// The name as given: the inventory name, or the hop's host for a jump.
    pub alias: String,
    /// Where to connect: inventory address, else HostName (`%h` expanded), else the alias;
    /// lowercased.
    pub hostname: String,
    /// Inventory port, else Port, else 22.
    pub port: u16,
    /// Inventory user, else User, else the local login name.
    pub user: String,
    /// IdentityFile entries in order (expanded, duplicates dropped), or OpenSSH's defaults.
    /// Files that do not exist are skipped by ssh without a word; so should the client.
    pub identity_files: Vec<PathBuf>,
    pub identities_only: bool,
    /// The agent socket: IdentityAgent, else `$SSH_AUTH_SOCK`. `None`: no agent
    /// (`IdentityAgent none`, or no socket known).
    pub identity_agent: Option<PathBuf>,
    /// Inventory `jump`, else ProxyJump; empty for none. Follow it with
    /// [`SshConfigSource::jump_chain`].
    pub proxy_jump: Vec<JumpHop>,
    /// ConnectTimeout; `None` when unset or 0.
    pub connect_timeout: Option<Duration>,
    /// ServerAliveInterval; `None` when 0 (off) or unset (300 s under `BatchMode yes`, as ssh).
    pub server_alive_interval: Option<Duration>,
    /// ServerAliveCountMax (default 3).
    pub server_alive_count_max: u32,
    /// HostKeyAlias, lowercased.
    pub host_key_alias: Option<String>,
    /// UserKnownHostsFile entries (default `~/.ssh/known_hosts`, `~/.ssh/known_hosts2`), then
    /// GlobalKnownHostsFile entries (default `/etc/ssh/ssh_known_hosts`, `…2`). OpenSSH records
    /// new keys in the first user file; when UserKnownHostsFile is `none` the list holds only
    /// global files, which ssh never writes to.
    pub known_hosts_files: Vec<PathBuf>,
    /// Default `Ask`.
    pub strict_host_key_checking: StrictMode,
}

impl ResolvedHost {
    /// The `(name, port)` to look this host's key up under (for `KnownHosts::check` and
    /// `known_hosts::learn`): HostKeyAlias alone (OpenSSH stores an alias without a port, so
    /// the port given is 22), else the host name and port.
    pub fn host_key_target(&self) -> (&str, u16) {
        match &self.host_key_alias {
            Some(alias) => (alias, 22),
            None => (&self.hostname, self.port),
        }
    }

    /// `user@host:port` for messages.
    pub fn destination(&self) -> String {
        JumpHop {
            user: Some(self.user.clone()),
            host: self.hostname.clone(),
            port: Some(self.port),
        }
        .to_string()
    }
}

/// The parsed config files, ready to resolve any number of hosts.
#[derive(Debug)]
pub struct SshConfigSource {
    files: Vec<PathBuf>,
    directives: Vec<Directive>,
    warnings: Vec<String>,
    local: LocalUser,
}

/// Command-line-like values that win over the config.
#[derive(Default)]
struct Overrides {
    host_name: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    proxy: Option<Proxy>,
}

impl SshConfigSource {
    /// `explicit` (--ssh-config FILE) replaces ~/.ssh/config and /etc/ssh/ssh_config, like
    /// `ssh -F` (`none` reads nothing). Otherwise reads ~/.ssh/config then
    /// /etc/ssh/ssh_config (missing files are fine).
    pub fn load(explicit: Option<&Path>) -> Result<SshConfigSource, Error> {
        Self::load_for(explicit, LocalUser::current())
    }

    /// [`load`](Self::load) for a given local account (its home holds `~/.ssh/config`).
    pub fn load_for(explicit: Option<&Path>, local: LocalUser) -> Result<SshConfigSource, Error> {
        let user_config = local.home.join(".ssh").join("config");
        let tops: Vec<TopFile<'_>> = match explicit {
            Some(p) if p == Path::new("none") => Vec::new(),
            Some(p) => vec![TopFile {
                path: p,
                user: true,
                required: true,
            }],
            None => vec![
                TopFile {
                    path: &user_config,
                    user: true,
                    required: false,
                },
                TopFile {
                    path: Path::new(SYSTEM_CONFIG),
                    user: false,
                    required: false,
                },
            ],
        };
        let parsed = read(&tops, &local.home)?;
        Ok(SshConfigSource {
            files: parsed.files,
            directives: parsed.directives,
            warnings: parsed.warnings,
            local,
        })
    }

    /// Every file read, includes too, in reading order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Things in the files fleetdeck does not evaluate (`file:line:column: message`).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn local_user(&self) -> &LocalUser {
        &self.local
    }

    /// What ssh would use for an inventory host (or an ad-hoc name): the config as
    /// `ssh -G NAME` sees it, with the inventory's address, port, user and jump winning.
    pub fn resolve(&self, host: &Host) -> Result<ResolvedHost, Error> {
        let proxy = match &host.jump {
            None => None,
            Some(text) => {
                let hops = crate::inventory::jump::parse_jump_list(text).map_err(|msg| {
                    Error::Invalid(format!("host `{}`: jump `{text}`: {msg}", host.name))
                })?;
                Some(Proxy::Jump {
                    hops,
                    text: text.clone(),
                })
            }
        };
        let overrides = Overrides {
            // Escaped: an address is taken literally, never %-expanded.
            host_name: host.address.as_ref().map(|a| a.replace('%', "%%")),
            port: host.port,
            user: host.user.clone(),
            proxy,
        };
        self.resolve_name(&host.name, overrides)
    }

    /// A jump host as ssh resolves it (`ssh -l USER -p PORT HOST`): the hop's user and port
    /// win, everything else comes from the config for the hop's host name, including its own
    /// ProxyJump (see [`jump_chain`](Self::jump_chain) for which hops honour it).
    pub fn resolve_jump(&self, hop: &JumpHop) -> Result<ResolvedHost, Error> {
        let overrides = Overrides {
            port: hop.port,
            user: hop.user.clone(),
            ..Overrides::default()
        };
        self.resolve_name(&hop.host, overrides)
    }

    /// The hosts to connect through to reach `target`, first hop first, as OpenSSH builds
    /// `ProxyJump a,b` (`ssh -J a -W target b`): the last hop is reached through the hops
    /// before it, and only the first hop's own ProxyJump is followed (recursively). The
    /// returned hops have `proxy_jump` emptied: the list is the whole path. Fails on a loop
    /// or a chain deeper than [`MAX_JUMP_DEPTH`].
    pub fn jump_chain(&self, target: &ResolvedHost) -> Result<Vec<ResolvedHost>, Error> {
        let mut chain = Vec::new();
        let mut via = vec![target.alias.clone()];
        self.chain_into(&target.proxy_jump, &mut via, &mut chain)?;
        Ok(chain)
    }

    /// `via`: the hosts this chain went through so far (the target first), to name a loop.
    fn chain_into(
        &self,
        hops: &[JumpHop],
        via: &mut Vec<String>,
        out: &mut Vec<ResolvedHost>,
    ) -> Result<(), Error> {
        let Some((last, before)) = hops.split_last() else {
            return Ok(());
        };
        if via.len() > MAX_JUMP_DEPTH {
            return Err(Error::Invalid(format!(
                "host `{}`: ProxyJump chain longer than {MAX_JUMP_DEPTH} hops: reached `{last}`",
                via[0]
            )));
        }
        let mut resolved = self.resolve_jump(last)?;
        if via.contains(&resolved.alias) {
            // OpenSSH says "jumphost loop via HOST"; say how, and the usual cause.
            via.push(resolved.alias.clone());
            return Err(Error::Invalid(format!(
                "host `{}`: ProxyJump loop via `{}` ({}); a `Host *` block's ProxyJump applies to \
                 the jump host too: give it `ProxyJump none` in a `Host {}` block above",
                via[0],
                resolved.alias,
                via.join(" → "),
                resolved.alias
            )));
        }
        via.push(resolved.alias.clone());
        if before.is_empty() {
            let own = std::mem::take(&mut resolved.proxy_jump);
            self.chain_into(&own, via, out)?;
        } else {
            resolved.proxy_jump.clear();
            self.chain_into(before, via, out)?;
        }
        out.push(resolved);
        Ok(())
    }

    fn resolve_name(&self, name: &str, overrides: Overrides) -> Result<ResolvedHost, Error> {
        let mut c = Collected {
            host_name: overrides.host_name,
            port: overrides.port,
            user: overrides.user,
            proxy: overrides.proxy,
            ..Collected::default()
        };
        collect(&self.directives, name, &self.local, &mut c);
        let fail = |origin: Option<Origin>, msg: String| {
            let place = origin
                .map(|o| format!(" ({})", self.place(o)))
                .unwrap_or_default();
            Error::Invalid(format!("host `{name}`: {msg}{place}"))
        };

        let hostname = match &c.host_name {
            Some(raw) => expand_host_name(raw, name).map_err(|m| fail(None, m))?,
            None => name.to_string(),
        }
        .to_lowercase();
        let port = c.port.unwrap_or(22);
        let user = c.user.clone().unwrap_or_else(|| self.local.name.clone());
        let host_key_alias = c.host_key_alias.as_ref().map(|a| a.to_lowercase());
        let (proxy_jump, jump_text) = match &c.proxy {
            None => (Vec::new(), String::new()),
            Some(Proxy::Jump { hops, text }) => (hops.clone().unwrap_or_default(), text.clone()),
            Some(Proxy::Command { command: None, .. }) => (Vec::new(), String::new()),
            Some(Proxy::Command {
                command: Some(command),
                origin,
            }) => {
                return Err(fail(
                    Some(*origin),
                    format!(
                        "ProxyCommand `{command}` is not supported by fleetdeck; use ProxyJump \
                         (or `ProxyCommand none` for this host)"
                    ),
                ));
            }
        };
        let tokens = Tokens {
            local: &self.local,
            host_name: &hostname,
            original: name,
            port,
            user: &user,
            host_key_alias: host_key_alias.as_deref().unwrap_or(name),
            jump: &jump_text,
        };

        let mut identity_files: Vec<PathBuf> = Vec::new();
        let raw_identities: Vec<(String, Option<Origin>)> = if c.identity_files.is_empty() {
            DEFAULT_IDENTITIES
                .iter()
                .map(|p| (p.to_string(), None))
                .collect()
        } else {
            c.identity_files.clone()
        };
        for (raw, origin) in &raw_identities {
            let path = expand_path(raw, &tokens)
                .map_err(|m| fail(*origin, format!("IdentityFile {m}")))?;
            if !identity_files.contains(&path) {
                identity_files.push(path);
            }
        }

        let identity_agent = match &c.identity_agent {
            None => agent_from_env("SSH_AUTH_SOCK"),
            Some((raw, _)) if raw == "none" => None,
            Some((raw, _)) if raw == "SSH_AUTH_SOCK" => agent_from_env("SSH_AUTH_SOCK"),
            Some((raw, origin)) => {
                let path = expand_path(raw, &tokens)
                    .map_err(|m| fail(Some(*origin), format!("IdentityAgent {m}")))?;
                match path.to_str().and_then(|p| p.strip_prefix('$')) {
                    Some(var) => agent_from_env(var),
                    None => Some(path),
                }
            }
        };

        let mut known_hosts_files = Vec::new();
        match &c.user_known_hosts {
            None => {
                for raw in DEFAULT_USER_KNOWN_HOSTS {
                    let p = expand_tilde(raw, &self.local.home).map_err(|m| fail(None, m))?;
                    known_hosts_files.push(PathBuf::from(p));
                }
            }
            Some((None, _)) => {}
            Some((Some(list), origin)) => {
                for raw in list {
                    let path = expand_path(raw, &tokens)
                        .map_err(|m| fail(Some(*origin), format!("UserKnownHostsFile {m}")))?;
                    known_hosts_files.push(path);
                }
            }
        }
        let global: Vec<String> = match &c.global_known_hosts {
            None => DEFAULT_GLOBAL_KNOWN_HOSTS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            Some(None) => Vec::new(),
            Some(Some(list)) => list.clone(),
        };
        for raw in &global {
            let p = expand_tilde(raw, &self.local.home)
                .map_err(|m| fail(None, format!("GlobalKnownHostsFile {m}")))?;
            known_hosts_files.push(PathBuf::from(p));
        }

        Ok(ResolvedHost {
            alias: name.to_string(),
            hostname,
            port,
            user,
            identity_files,
            identities_only: c.identities_only.unwrap_or(false),
            identity_agent,
            proxy_jump,
            connect_timeout: c.connect_timeout.filter(|d| !d.is_zero()),
            server_alive_interval: c
                .server_alive_interval
                .or_else(|| {
                    c.batch_mode
                        .unwrap_or(false)
                        .then_some(BATCH_SERVER_ALIVE_INTERVAL)
                })
                .filter(|d| !d.is_zero()),
            server_alive_count_max: c
                .server_alive_count_max
                .unwrap_or(DEFAULT_SERVER_ALIVE_COUNT_MAX),
            host_key_alias,
            known_hosts_files,
            strict_host_key_checking: c.strict.unwrap_or(StrictMode::Ask),
        })
    }

    fn place(&self, o: Origin) -> String {
        let file = self
            .files
            .get(o.file)
            .map(|f| f.display().to_string())
            .unwrap_or_default();
        format!("{file}:{}:{}", o.line, o.column)
    }
}

fn agent_from_env(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests;
