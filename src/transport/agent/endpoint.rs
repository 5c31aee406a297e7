//! Where an agent host is and how it proves itself: the url (wss, or ws on loopback only),
//! the pinned certificate fingerprint and the token file of the scope asked for (an exec
//! token to run things, a read token to watch), checked before any connection.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use tokio_tungstenite::tungstenite::http::Uri;

use super::super::{ErrorKind, TransportError};
use crate::inventory::Host;
use crate::protocol::parse_fingerprint;

/// One agent host's connection settings, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The url as written in hosts.toml.
    pub url: String,
    /// `wss://` (TLS with a pinned certificate) rather than plain `ws://`.
    pub tls: bool,
    /// Host part of the url (no brackets around IPv6), for TCP and the TLS server name.
    pub host: String,
    pub port: u16,
    /// The certificate pin as written, and its bytes.
    pub pin: Option<(String, [u8; 32])>,
    /// Where the exec token is read from (`token_file`).
    pub token_file: Option<PathBuf>,
    /// Where the read token is read from (`read_token_file`).
    pub read_token_file: Option<PathBuf>,
    /// Which of the two each connect presents.
    pub scope: TokenScope,
}

/// The token a connection presents: exec (runs, locks, operations; what the console and the
/// CLI use) or read (heartbeats and alerts only; what a read-only front end uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenScope {
    Exec,
    Read,
}

impl Endpoint {
    /// Checks a host's `agent` table. `base_dir` is the folder of hosts.toml: relative token
    /// paths are taken from there (like paths in any config file), `~/` from `$HOME`.
    pub fn resolve(host: &Host, base_dir: &Path) -> Result<Endpoint, TransportError> {
        Self::resolve_for(host, base_dir, TokenScope::Exec)
    }

    /// As [`resolve`](Self::resolve), presenting the token of `scope` at each connect.
    pub fn resolve_for(
        host: &Host,
        base_dir: &Path,
        scope: TokenScope,
    ) -> Result<Endpoint, TransportError> {
        let name = &host.name;
        let Some(agent) = &host.agent else {
            return Err(TransportError::new(
                ErrorKind::Io,
                format!(
                    "{name}: transport = \"agent\" but no agent table in hosts.toml (add \
                     agent = {{ url = \"wss://HOST:PORT\", token_file = \"…\", fingerprint = \
                     \"sha256:…\" }}; `fleetdeck agent init` prints it)"
                ),
            ));
        };
        let uri: Uri = agent.url.parse().map_err(|e| {
            TransportError::new(
                ErrorKind::Io,
                format!(
                    "{name}: agent url `{}` is not a url ({e}); write wss://HOST:PORT",
                    agent.url
                ),
            )
        })?;
        let tls = match uri.scheme_str() {
            Some("wss") => true,
            Some("ws") => false,
            _ => {
                return Err(TransportError::new(
                    ErrorKind::Io,
                    format!(
                        "{name}: agent url `{}` must start with wss:// (or ws:// for a \
                         loopback demo)",
                        agent.url
                    ),
                ));
            }
        };
        let host_part = uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                TransportError::new(
                    ErrorKind::Io,
                    format!("{name}: agent url `{}` has no host", agent.url),
                )
            })?;
        let port = uri.port_u16().ok_or_else(|| {
            TransportError::new(
                ErrorKind::Io,
                format!(
                    "{name}: agent url `{}` has no port (the agent prints it at start: \
                     wss://HOST:PORT)",
                    agent.url
                ),
            )
        })?;
        if !tls && !is_loopback(&host_part) {
            return Err(TransportError::new(
                ErrorKind::HostKey,
                format!(
                    "{name}: plain ws:// is refused for {host_part}, which is not loopback: the \
                     token and every command would cross the network in clear. Run the agent \
                     with TLS and use wss:// with the fingerprint `fleetdeck agent init` printed"
                ),
            ));
        }
        let pin = match &agent.fingerprint {
            Some(text) => {
                let bytes = parse_fingerprint(text).map_err(|e| {
                    TransportError::new(ErrorKind::HostKey, format!("{name}: hosts.toml: {e}"))
                })?;
                Some((text.trim().to_string(), bytes))
            }
            None if tls => {
                return Err(TransportError::new(
                    ErrorKind::HostKey,
                    format!(
                        "{name}: no certificate fingerprint pinned, so the agent at {} cannot be \
                         verified. On the agent host run `fleetdeck agent init` (or look at what \
                         it printed) and add fingerprint = \"sha256:…\" to this host's agent table",
                        agent.url
                    ),
                ));
            }
            None => None,
        };
        let resolve = |p: &Option<String>| p.as_deref().map(|p| resolve_path(p, base_dir));
        Ok(Endpoint {
            url: agent.url.clone(),
            tls,
            host: host_part,
            port,
            pin,
            token_file: resolve(&agent.token_file),
            read_token_file: resolve(&agent.read_token_file),
            scope,
        })
    }

    /// The file of this endpoint's scope, or why there is none (an auth error saying what to
    /// add to hosts.toml).
    pub fn token_path(&self, name: &str) -> Result<&Path, TransportError> {
        let missing = |message: String| Err(TransportError::new(ErrorKind::Auth, message));
        match (self.scope, &self.token_file, &self.read_token_file) {
            (TokenScope::Exec, Some(path), _) | (TokenScope::Read, _, Some(path)) => Ok(path),
            (TokenScope::Exec, None, Some(_)) => missing(format!(
                "{name}: no exec token: this host's agent table has only a read_token_file, \
                 which can watch the host but not run anything on it; add token_file = \"PATH\" \
                 naming a file that holds an exec token from `fleetdeck agent init`"
            )),
            (TokenScope::Exec, None, None) => missing(format!(
                "{name}: no token_file in this host's agent table; add token_file = \
                 \"PATH\" naming a file that holds an exec token from `fleetdeck agent init`"
            )),
            (TokenScope::Read, _, None) => missing(format!(
                "{name}: no read token: a read-only view contacts agents only with a read-scope \
                 token; add read_token_file = \"PATH\" to this host's agent table, naming a \
                 file that holds the read token from `fleetdeck agent init`"
            )),
        }
    }

    /// Reads the bearer token of this endpoint's scope (the file's first line, trimmed).
    /// Errors are auth errors that name the file; the token itself never appears in any
    /// message.
    pub fn read_token(&self, name: &str) -> Result<String, TransportError> {
        let path = self.token_path(name)?;
        let text = std::fs::read_to_string(path).map_err(|e| {
            TransportError::new(
                ErrorKind::Auth,
                format!(
                    "{name}: cannot read the agent token file {}: {e}",
                    path.display()
                ),
            )
        })?;
        let token = text.lines().next().unwrap_or("").trim().to_string();
        if token.is_empty() {
            return Err(TransportError::new(
                ErrorKind::Auth,
                format!("{name}: the agent token file {} is empty", path.display()),
            ));
        }
        Ok(token)
    }
}

/// `~/x` from `$HOME`, relative paths from `base_dir`, absolute ones as they are.
fn resolve_path(path: &str, base_dir: &Path) -> PathBuf {
    if let Some(rest) = path.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return Path::new(&home).join(rest);
    }
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    }
}

/// `localhost`, 127.0.0.0/8 and ::1.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{AgentEndpoint, TransportKind};

    fn host(url: &str, fingerprint: Option<&str>, token_file: Option<&str>) -> Host {
        let mut h = Host::ad_hoc("a1");
        h.transport = TransportKind::Agent;
        h.agent = Some(AgentEndpoint {
            url: url.into(),
            token_file: token_file.map(Into::into),
            read_token_file: None,
            fingerprint: fingerprint.map(Into::into),
        });
        h
    }

    const FP: &str = "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn wss_needs_a_pin_and_ws_needs_loopback() {
        let base = Path::new("/etc/fleetdeck");
        let e = Endpoint::resolve(&host("wss://10.0.0.1:7070", Some(FP), Some("t")), base).unwrap();
        assert!(e.tls);
        assert_eq!((e.host.as_str(), e.port), ("10.0.0.1", 7070));
        assert_eq!(e.token_file.unwrap(), Path::new("/etc/fleetdeck/t"));

        let err = Endpoint::resolve(&host("wss://10.0.0.1:7070", None, None), base).unwrap_err();
        assert_eq!(err.kind, ErrorKind::HostKey);
        assert!(err.message.contains("fleetdeck agent init"), "{err}");

        let err = Endpoint::resolve(&host("ws://10.0.0.1:7070", None, None), base).unwrap_err();
        assert_eq!(err.kind, ErrorKind::HostKey);
        assert!(err.message.contains("not loopback"), "{err}");

        for url in ["ws://127.0.0.1:1", "ws://localhost:1", "ws://[::1]:1"] {
            let e = Endpoint::resolve(&host(url, None, Some("/abs/t")), base).unwrap();
            assert!(!e.tls && e.pin.is_none(), "{url}");
            assert_eq!(e.token_file.unwrap(), Path::new("/abs/t"));
        }
        assert!(Endpoint::resolve(&host("http://127.0.0.1:1", None, None), base).is_err());
        assert!(Endpoint::resolve(&host("wss://127.0.0.1", Some(FP), None), base).is_err());
        let bad_pin = Endpoint::resolve(&host("wss://h:1", Some("md5:00"), None), base);
        assert_eq!(bad_pin.unwrap_err().kind, ErrorKind::HostKey);
    }

    #[test]
    fn a_missing_token_file_is_an_auth_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let e = Endpoint::resolve(
            &host("ws://127.0.0.1:1", None, Some("nope.token")),
            dir.path(),
        )
        .unwrap();
        let err = e.read_token("a1").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
        assert!(err.message.contains("nope.token"), "{err}");
        std::fs::write(dir.path().join("nope.token"), "s3cret\n").unwrap();
        assert_eq!(e.read_token("a1").unwrap(), "s3cret");
    }

    #[test]
    fn each_scope_reads_its_own_token_and_says_which_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("read.token"), "r3ad\n").unwrap();
        std::fs::write(dir.path().join("exec.token"), "ex3c\n").unwrap();
        let mut h = host("ws://127.0.0.1:1", None, None);
        if let Some(agent) = h.agent.as_mut() {
            agent.read_token_file = Some("read.token".into());
        }
        // Only a read token: watching works, running says there is no exec token.
        let read = Endpoint::resolve_for(&h, dir.path(), TokenScope::Read).unwrap();
        assert_eq!(read.read_token("a1").unwrap(), "r3ad");
        let exec = Endpoint::resolve(&h, dir.path()).unwrap();
        let err = exec.read_token("a1").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Auth);
        assert!(err.message.contains("no exec token"), "{err}");
        // Only an exec token: a reader never falls back to it.
        let h = host("ws://127.0.0.1:1", None, Some("exec.token"));
        let read = Endpoint::resolve_for(&h, dir.path(), TokenScope::Read).unwrap();
        let err = read.read_token("a1").unwrap_err();
        assert!(err.message.contains("no read token"), "{err}");
        assert_eq!(
            Endpoint::resolve(&h, dir.path())
                .unwrap()
                .read_token("a1")
                .unwrap(),
            "ex3c"
        );
    }
}
