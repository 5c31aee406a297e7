//! Ansible host patterns as written in inventories: `name`, `name:port`, `[v6addr]:port`, and
//! ranges `web[01:20]` (zero padding kept), `db-[a:c]` (letters), `n[1:10:2]` (step), several
//! per name. Same rules as Ansible's `expand_hostname_range`.

use std::net::Ipv6Addr;

/// Hosts a pattern stands for, and the port written after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HostPattern {
    pub names: Vec<String>,
    pub port: Option<u16>,
}

/// What is wrong, and where: a byte offset into the pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PatternError {
    pub offset: usize,
    pub message: String,
}

/// One pattern may not stand for more hosts than this (a typo like `[0:99999999]`).
pub(super) const MAX_HOSTS: usize = 100_000;

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

pub(super) fn parse(pattern: &str) -> Result<HostPattern, PatternError> {
    let (host, host_offset, port) = split_port(pattern)?;
    if host.is_empty() {
        return Err(PatternError {
            offset: 0,
            message: "empty host name".into(),
        });
    }
    let names = expand(host, host_offset)?;
    Ok(HostPattern { names, port })
}

/// Validates a port number written in an inventory.
pub(super) fn parse_port(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("`{s}` is not a port number (1-65535)")),
    }
}

/// `(host part, its offset in the pattern, port)`.
fn split_port(p: &str) -> Result<(&str, usize, Option<u16>), PatternError> {
    let port_at =
        |s: &str, offset: usize| parse_port(s).map_err(|message| PatternError { offset, message });
    if let Some(rest) = p.strip_prefix('[')
        && let Some(close) = rest.find(']')
        && rest[..close].parse::<Ipv6Addr>().is_ok()
    {
        let inner = &rest[..close];
        let after = &rest[close + 1..];
        return match after.strip_prefix(':') {
            None if after.is_empty() => Ok((inner, 1, None)),
            Some(port) => Ok((inner, 1, Some(port_at(port, close + 3)?))),
            None => Err(PatternError {
                offset: close + 2,
                message: format!("unexpected `{after}` after an IPv6 address"),
            }),
        };
    }
    if p.parse::<Ipv6Addr>().is_ok() {
        return Ok((p, 0, None));
    }
    let mut depth = 0usize;
    let mut colon = None;
    for (i, c) in p.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => colon = Some(i),
            _ => {}
        }
    }
    match colon {
        None => Ok((p, 0, None)),
        Some(i) => Ok((&p[..i], 0, Some(port_at(&p[i + 1..], i + 1)?))),
    }
}

enum Segment<'a> {
    Text(&'a str),
    Range(Vec<String>),
}

fn expand(name: &str, base: usize) -> Result<Vec<String>, PatternError> {
    let mut segments = Vec::new();
    let mut total: usize = 1;
    let mut rest = name;
    let mut offset = base;
    while let Some(open) = rest.find('[') {
        let Some(len) = rest[open..].find(']') else {
            return Err(PatternError {
                offset: offset + open,
                message: "unclosed `[` in host range".into(),
            });
        };
        let inner = &rest[open + 1..open + len];
        let values = range_values(inner).map_err(|message| PatternError {
            offset: offset + open,
            message,
        })?;
        total = total.saturating_mul(values.len());
        if total > MAX_HOSTS {
            return Err(PatternError {
                offset: offset + open,
                message: format!("host pattern expands to more than {MAX_HOSTS} hosts"),
            });
        }
        segments.push(Segment::Text(&rest[..open]));
        segments.push(Segment::Range(values));
        offset += open + len + 1;
        rest = &rest[open + len + 1..];
    }
    segments.push(Segment::Text(rest));

    // The first range varies slowest, as in Ansible.
    let mut names = vec![String::new()];
    for seg in &segments {
        match seg {
            Segment::Text(t) => names.iter_mut().for_each(|n| n.push_str(t)),
            Segment::Range(values) => {
                names = names
                    .iter()
                    .flat_map(|n| values.iter().map(move |v| format!("{n}{v}")))
                    .collect();
            }
        }
    }
    Ok(names)
}

/// The values of one `[begin:end]` or `[begin:end:step]`.
fn range_values(inner: &str) -> Result<Vec<String>, String> {
    let bounds: Vec<&str> = inner.split(':').collect();
    if !(2..=3).contains(&bounds.len()) {
        return Err(format!(
            "`[{inner}]` is not a host range: use [begin:end] or [begin:end:step]"
        ));
    }
    let begin = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    if end.is_empty() {
        return Err(format!("host range `[{inner}]` has no end"));
    }
    let step = match bounds.get(2) {
        None => 1,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|&s| s > 0)
            .ok_or_else(|| format!("host range step `{s}` must be a positive number"))?,
    };
    let letter = |s: &str| {
        if s.len() == 1 { LETTERS.find(s) } else { None }
    };
    if let (Some(b), Some(e)) = (letter(begin), letter(end)) {
        if b > e {
            return Err(format!("host range `[{inner}]` goes backwards"));
        }
        return Ok(LETTERS[b..=e]
            .chars()
            .step_by(step)
            .map(String::from)
            .collect());
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(begin) || !digits(end) {
        return Err(format!(
            "`[{inner}]` is not a host range: bounds must both be numbers or both be letters"
        ));
    }
    let width = if begin.len() > 1 && begin.starts_with('0') {
        if begin.len() != end.len() {
            return Err(format!(
                "host range `[{inner}]`: a zero-padded begin needs an end of the same width"
            ));
        }
        begin.len()
    } else {
        0
    };
    let too_big = || format!("host range `[{inner}]` is too large");
    let b: u64 = begin.parse().map_err(|_| too_big())?;
    let e: u64 = end.parse().map_err(|_| too_big())?;
    if b > e {
        return Err(format!("host range `[{inner}]` goes backwards"));
    }
    if (e - b) / step as u64 >= MAX_HOSTS as u64 {
        return Err(format!(
            "host range `[{inner}]` expands to more than {MAX_HOSTS} hosts"
        ));
    }
    Ok((b..=e)
        .step_by(step)
        .map(|n| format!("{n:0width$}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &str) -> Vec<String> {
        parse(p).unwrap_or_else(|e| panic!("{p}: {e:?}")).names
    }

    #[test]
    fn plain_and_ports() {
        assert_eq!(
            parse("web01").unwrap(),
            HostPattern {
                names: vec!["web01".into()],
                port: None
            }
        );
        assert_eq!(parse("web01:2222").unwrap().port, Some(2222));
        let v6 = parse("[2001:db8::1]:2200").unwrap();
        assert_eq!(
            (v6.names, v6.port),
            (vec!["2001:db8::1".to_string()], Some(2200))
        );
        assert_eq!(parse("2001:db8::1").unwrap().port, None);
        assert_eq!(parse("h:0").unwrap_err().offset, 2);
        assert_eq!(parse("h:ssh").unwrap_err().offset, 2);
    }

    #[test]
    fn ranges() {
        assert_eq!(names("web[01:03]"), ["web01", "web02", "web03"]);
        assert_eq!(names("web[8:10]"), ["web8", "web9", "web10"]);
        assert_eq!(names("db-[a:c]"), ["db-a", "db-b", "db-c"]);
        assert_eq!(names("n[1:10:4].x"), ["n1.x", "n5.x", "n9.x"]);
        assert_eq!(names("n[:2]"), ["n0", "n1", "n2"]);
        assert_eq!(names("r[1:2]n[a:b]"), ["r1na", "r1nb", "r2na", "r2nb"]);
        let p = parse("edge[1:2].example.com:2200").unwrap();
        assert_eq!(p.names, ["edge1.example.com", "edge2.example.com"]);
        assert_eq!(p.port, Some(2200));
    }

    #[test]
    fn bad_ranges() {
        for (p, offset) in [
            ("web[01:5]", 3),
            ("web[5:1]", 3),
            ("web[1]", 3),
            ("web[1:2:0]", 3),
            ("web[1:x]", 3),
            ("web[1:", 3),
            ("ab[1:2]cd[", 9),
            ("w[0:999999999]", 1),
            ("w[0:999]x[0:999]", 9),
        ] {
            let e = parse(p).expect_err(p);
            assert_eq!(e.offset, offset, "{p}: {}", e.message);
        }
    }
}
