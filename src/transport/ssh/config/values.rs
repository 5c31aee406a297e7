//! Value syntax of the config keywords fleetdeck reads, checked the way OpenSSH checks them
//! (every line is validated, whether or not its block applies to the host being resolved).

use std::time::Duration;

use super::StrictMode;

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

/// OpenSSH `a2port`: 1..=65535, or a TCP service name from /etc/services (`Port ssh`).
pub(super) fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        Ok(_) => Err(format!("invalid port `{text}` (1 to 65535)")),
        Err(_) => service_port(text).ok_or_else(|| {
            format!("invalid port `{text}`: not a number (1 to 65535) nor a TCP service in /etc/services")
        }),
    }
}

/// The TCP port /etc/services gives `name` (or one of its aliases), as getservbyname(3) would;
/// read once per process.
fn service_port(name: &str) -> Option<u16> {
    static SERVICES: std::sync::OnceLock<std::collections::HashMap<String, u16>> =
        std::sync::OnceLock::new();
    let services = SERVICES.get_or_init(|| {
        std::fs::read_to_string("/etc/services")
            .map(|text| services_of(&text))
            .unwrap_or_default()
    });
    services.get(name).copied()
}

/// `name port/tcp alias…` lines (comments and other protocols skipped); the first wins.
fn services_of(text: &str) -> std::collections::HashMap<String, u16> {
    let mut map = std::collections::HashMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let (Some(name), Some(port_proto)) = (words.next(), words.next()) else {
            continue;
        };
        let Some((port, "tcp")) = port_proto.split_once('/') else {
            continue;
        };
        let Some(port) = port.parse::<u16>().ok().filter(|&p| p > 0) else {
            continue;
        };
        for n in std::iter::once(name).chain(words) {
            map.entry(n.to_string()).or_insert(port);
        }
    }
    map
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_numbers_or_tcp_services() {
        let services = services_of(
            "# comment\nssh\t\t22/tcp\t\t\t# SSH Remote Login Protocol\n\
             domain 53/udp\nhttp 80/tcp www # WorldWideWeb\nbad x/tcp\n",
        );
        assert_eq!(services.get("ssh"), Some(&22));
        assert_eq!(services.get("www"), Some(&80));
        assert_eq!(services.get("domain"), None, "udp only");
        assert_eq!(services.get("bad"), None);
        assert_eq!(parse_port("2222"), Ok(2222));
        assert!(parse_port("0").is_err());
        assert!(parse_port("70000").is_err());
        assert!(parse_port("no-such-service-here").is_err());
        if std::fs::read_to_string("/etc/services").is_ok_and(|t| t.contains("22/tcp")) {
            assert_eq!(parse_port("ssh"), Ok(22));
        }
    }

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
}
