//! `jump` in hosts.toml and `ProxyJump` in ssh_config: comma-separated hops, each
//! `[user@]host[:port]` or `ssh://[user@]host[:port]`, IPv6 addresses in brackets, parsed as
//! OpenSSH parses them. Here, below both, so hosts.toml is checked when it loads (a bad `jump`
//! is a file:line:column error, exit 2, with nothing run) with the very parser SSH uses.

use std::fmt;

/// One ProxyJump hop: `[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHop {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl fmt::Display for JumpHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        match (self.host.contains(':'), self.port) {
            (true, Some(port)) => write!(f, "[{}]:{port}", self.host),
            (false, Some(port)) => write!(f, "{}:{port}", self.host),
            (_, None) => f.write_str(&self.host),
        }
    }
}

/// A ProxyJump value: `none` (`Ok(None)`) or comma-separated hops, each `[user@]host[:port]`
/// or `ssh://[user@]host[:port]`, with IPv6 addresses in brackets.
pub fn parse_jump_list(text: &str) -> Result<Option<Vec<JumpHop>>, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    text.split(',')
        .map(|hop| parse_hop(hop).map_err(|why| format!("invalid ProxyJump hop `{hop}`: {why}")))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn parse_hop(text: &str) -> Result<JumpHop, &'static str> {
    let (text, uri) = match text.strip_prefix("ssh://") {
        Some(rest) => (rest.strip_suffix('/').unwrap_or(rest), true),
        None => (text, false),
    };
    // OpenSSH splits the user at the last `@` (user names may contain `@`).
    let (user, host_port) = match text.rsplit_once('@') {
        Some(("", _)) => return Err("empty user name"),
        Some((user, rest)) => (Some(user.to_string()), rest),
        None => (None, text),
    };
    if uri && host_port.contains('/') {
        return Err("an ssh:// URI takes no path");
    }
    let (host, port) = split_host_port(host_port)?;
    if host.is_empty() {
        return Err("missing host name");
    }
    if host.contains(|c: char| c.is_whitespace() || c == '@' || c == ',') {
        return Err("invalid character in host name");
    }
    let port = match port {
        None => None,
        Some(p) => Some(parse_port(p).map_err(|_| "invalid port (1 to 65535)")?),
    };
    Ok(JumpHop {
        user,
        host: host.to_string(),
        port,
    })
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` (OpenSSH `hpdelim2`).
fn split_host_port(text: &str) -> Result<(&str, Option<&str>), &'static str> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("unclosed `[`")?;
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) if !port.is_empty() => Ok((host, Some(port))),
                _ => Err("expected `:port` after `]`"),
            },
        };
    }
    match text.split_once(':') {
        None => Ok((text, None)),
        // `host:` is accepted by ssh: the default port.
        Some((host, "")) => Ok((host, None)),
        Some((host, port)) if !port.contains(':') && !port.is_empty() => Ok((host, Some(port))),
        Some(_) => Err("IPv6 addresses must be written in brackets: [addr]:port"),
    }
}

/// A hop's port: 1..=65535.
fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("invalid port `{text}` (1 to 65535)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hops_parse_like_openssh() {
        let hops = parse_jump_list("a,bob@b:2200,ssh://carol@c:23,[::1]:44,d@[fe80::1]")
            .unwrap()
            .unwrap();
        let got: Vec<(Option<&str>, &str, Option<u16>)> = hops
            .iter()
            .map(|h| (h.user.as_deref(), h.host.as_str(), h.port))
            .collect();
        assert_eq!(
            got,
            [
                (None, "a", None),
                (Some("bob"), "b", Some(2200)),
                (Some("carol"), "c", Some(23)),
                (None, "::1", Some(44)),
                (Some("d"), "fe80::1", None),
            ]
        );
        assert_eq!(parse_jump_list("NONE"), Ok(None));
        for bad in ["u@", "@h", "h:0", "h:x", "a,,b", "::1", "[::1", "[::1]x"] {
            assert!(parse_jump_list(bad).is_err(), "{bad}");
        }
    }
}
