//! One known_hosts line: marker, host patterns (plain, wildcard, negated, hashed) and key,
//! matched the way OpenSSH's hostfile.c matches them.

use russh::keys::PublicKey;
use russh::keys::ssh_encoding::base64::{Base64, Encoding};
use russh::keys::ssh_key::public::KeyData;

use crate::transport::ssh::config::glob::wildmatch;

/// `@cert-authority`, `@revoked`, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Marker {
    None,
    CertAuthority,
    Revoked,
}

/// Whose key a line holds.
#[derive(Debug, Clone)]
pub(super) enum Hosts {
    /// `|1|salt|hash`: HMAC-SHA1 of the lowercased name, keyed by the salt.
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
    /// Comma-separated patterns, lowercased; `true` for a `!` negation.
    Patterns(Vec<(String, bool)>),
}

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub file: usize,
    /// 1-based.
    pub line: usize,
    pub hosts: Hosts,
    pub key: KeyData,
}

impl Hosts {
    /// Plain names only (no wildcard, no negation, not hashed): these can be indexed.
    pub fn plain_names(&self) -> Option<Vec<&str>> {
        match self {
            Hosts::Hashed { .. } => None,
            Hosts::Patterns(list) => list
                .iter()
                .map(|(p, negated)| (!negated && !p.contains(['*', '?'])).then_some(p.as_str()))
                .collect(),
        }
    }

    /// Whether the line is for `name` (already lowercased, `host` or `[host]:port`).
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Hosts::Hashed { salt, hash } => {
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, salt);
                ring::hmac::verify(&key, name.as_bytes(), hash).is_ok()
            }
            // OpenSSH match_pattern_list: some pattern matches and no negated one does.
            Hosts::Patterns(list) => {
                let mut hit = false;
                for (pattern, negated) in list {
                    if wildmatch(pattern, name) {
                        if *negated {
                            return false;
                        }
                        hit = true;
                    }
                }
                hit
            }
        }
    }
}

/// Parses one line. `Ok(None)`: blank or comment. `Err`: why the line is unusable.
pub(super) fn parse_line(text: &str) -> Result<Option<(Marker, Hosts, KeyData)>, String> {
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    let mut fields = text.split_whitespace();
    let mut first = fields.next().unwrap_or_default();
    let marker = match first {
        "@cert-authority" => Marker::CertAuthority,
        "@revoked" => Marker::Revoked,
        m if m.starts_with('@') => return Err(format!("unknown marker `{m}`")),
        _ => Marker::None,
    };
    if marker != Marker::None {
        first = fields.next().ok_or("no host patterns after the marker")?;
    }
    let hosts = parse_hosts(first)?;
    let algorithm = fields.next().ok_or("no key")?;
    let blob = fields.next().ok_or("no key data after the key type")?;
    // The comment (the rest) is not needed.
    let key = PublicKey::from_openssh(&format!("{algorithm} {blob}"))
        .map_err(|e| format!("cannot read the {algorithm} key: {e}"))?;
    Ok(Some((marker, hosts, key.key_data().clone())))
}

fn parse_hosts(field: &str) -> Result<Hosts, String> {
    if let Some(rest) = field.strip_prefix("|1|") {
        let (salt, hash) = rest.split_once('|').ok_or("malformed hashed host name")?;
        let salt = Base64::decode_vec(salt).map_err(|_| "bad base64 in hashed host name salt")?;
        let hash = Base64::decode_vec(hash).map_err(|_| "bad base64 in hashed host name")?;
        // SHA-1 sized, as OpenSSH requires.
        if salt.len() != 20 || hash.len() != 20 {
            return Err("hashed host name of the wrong length".into());
        }
        return Ok(Hosts::Hashed { salt, hash });
    }
    if field.starts_with('|') {
        return Err("unsupported hashed host name format".into());
    }
    let mut list = Vec::new();
    for item in field.split(',') {
        let (pattern, negated) = match item.strip_prefix('!') {
            Some(p) => (p, true),
            None => (item, false),
        };
        if pattern.is_empty() {
            return Err("empty host pattern".into());
        }
        list.push((pattern.to_lowercase(), negated));
    }
    Ok(Hosts::Patterns(list))
}

/// The name OpenSSH looks up: `host` for port 22, `[host]:port` otherwise; lowercased.
pub(super) fn lookup_name(name: &str, port: u16) -> String {
    let name = name.to_lowercase();
    if port == 22 {
        name
    } else {
        format!("[{name}]:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(field: &str) -> Hosts {
        parse_hosts(field).unwrap()
    }

    #[test]
    fn pattern_lists_follow_openssh() {
        assert!(patterns("a,b,c").matches("b"));
        assert!(patterns("*.example.com").matches("web.example.com"));
        assert!(!patterns("*.example.com,!bad.example.com").matches("bad.example.com"));
        assert!(patterns("*.example.com,!bad.example.com").matches("ok.example.com"));
        assert!(patterns("web?").matches("web1"));
        assert!(!patterns("web?").matches("web12"));
        assert!(patterns("[h]:2222").matches("[h]:2222"));
        assert!(!patterns("h").matches("[h]:2222"));
        // Only negations: nothing matches.
        assert!(!patterns("!a").matches("b"));
        assert!(patterns("WEB.Example.COM").matches(&lookup_name("web.example.com", 22)));
    }

    #[test]
    fn plain_names_are_indexable() {
        assert_eq!(patterns("a,B").plain_names(), Some(vec!["a", "b"]));
        assert_eq!(patterns("a,*.b").plain_names(), None);
        assert_eq!(patterns("a,!b").plain_names(), None);
    }

    #[test]
    fn lookup_names() {
        assert_eq!(lookup_name("Host", 22), "host");
        assert_eq!(lookup_name("Host", 2222), "[host]:2222");
        assert_eq!(lookup_name("::1", 2222), "[::1]:2222");
    }

    #[test]
    fn malformed_lines_say_why() {
        for (line, why) in [
            ("host", "no key"),
            ("host ssh-ed25519", "no key data"),
            ("host ssh-ed25519 AAAA", "cannot read"),
            ("@bogus host ssh-ed25519 AAAA", "unknown marker"),
            ("|1|x|y ssh-ed25519 AAAA", "base64"),
            ("a,,b ssh-ed25519 AAAA", "empty host pattern"),
        ] {
            let err = parse_line(line).unwrap_err();
            assert!(err.contains(why), "{line}: {err}");
        }
        assert!(parse_line("  # comment").unwrap().is_none());
        assert!(parse_line("").unwrap().is_none());
    }
}
