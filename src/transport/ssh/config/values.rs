//! Value syntax of the config keywords fleetdeck reads, checked the way OpenSSH checks them
//! (every line is validated, whether or not its block applies to the host being resolved).

use std::time::Duration;

use super::{JumpHop, StrictMode};

/// OpenSSH `convtime`: `90`, `1m30s`, `2h`, `1w` (units s m h d w, any case). At most
/// i32::MAX seconds, as in OpenSSH.
pub(super) fn parse_time(text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid time `{text}` (seconds, or a sequence like 1m30s)");
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(bad());
        }
        let value: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let mut unit = rest.chars();
        let multiplier = match unit.next().map(|c| c.to_ascii_lowercase()) {
            None => 1,
            Some('s') => 1,
            Some('m') => 60,
            Some('h') => 3600,
            Some('d') => 86_400,
            Some('w') => 604_800,
            Some(_) => return Err(bad()),
        };
        rest = unit.as_str();
        total = value
            .checked_mul(multiplier)
            .and_then(|v| total.checked_add(v))
            .filter(|&t| t <= i32::MAX as u64)
            .ok_or_else(|| format!("time `{text}` is too large"))?;
    }
    Ok(Duration::from_secs(total))
}

/// `yes`/`true` or `no`/`false`, any case (OpenSSH `multistate_flag`).
pub(super) fn parse_flag(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(format!("expected yes or no, found `{text}`")),
    }
}

/// OpenSSH `a2port` for numbers: 1..=65535 (service names are not looked up).
pub(super) fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("invalid port `{text}` (1 to 65535)")),
    }
}

pub(super) fn parse_count(text: &str) -> Result<u32, String> {
    text.parse::<u32>()
        .ok()
        .filter(|&n| n <= i32::MAX as u32)
        .ok_or_else(|| format!("expected a non-negative number, found `{text}`"))
}

/// OpenSSH `multistate_strict_hostkey`.
pub(super) fn parse_strict(text: &str) -> Result<StrictMode, String> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(StrictMode::Yes),
        "no" | "false" | "off" => Ok(StrictMode::No),
        "ask" => Ok(StrictMode::Ask),
        "accept-new" => Ok(StrictMode::AcceptNew),
        _ => Err(format!(
            "expected yes, no, ask, accept-new or off, found `{text}`"
        )),
    }
}

/// A ProxyJump value: `none` (`Ok(None)`) or comma-separated hops, each `[user@]host[:port]`
/// or `ssh://[user@]host[:port]`, with IPv6 addresses in brackets.
pub(super) fn parse_jump_list(text: &str) -> Result<Option<Vec<JumpHop>>, String> {
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
        Some((host, port)) if !port.contains(':') && !port.is_empty() => Ok((host, Some(port))),
        Some(_) => Err("IPv6 addresses must be written in brackets: [addr]:port"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_follow_openssh_convtime() {
        assert_eq!(parse_time("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_time("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_time("1H"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_time("1w1d"), Ok(Duration::from_secs(691_200)));
        assert!(parse_time("").is_err());
        assert!(parse_time("m").is_err());
        assert!(parse_time("5x").is_err());
        assert!(parse_time("-5").is_err());
        assert!(parse_time("99999999999").is_err());
    }

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
