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
}
