//! Redaction of everything sent to the analysis endpoint: known secret values (secret action
//! parameters, agent tokens, the API key), built-in patterns for tokens, keys and passwords,
//! and `[analysis] redact`. Matches become `[redacted]`.
//!
//! Known values are replaced first, whole, so a secret is gone even where no pattern would
//! recognise it; patterns then catch the secrets nobody told us about.

use std::sync::OnceLock;

use regex::{Captures, Regex};

use super::settings::RedactPattern;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// Known values shorter than this are not replaced (a one-letter "secret" would shred the
/// text); such a value is no secret worth the name.
const MIN_KNOWN_LEN: usize = 4;

/// Built-in patterns. Where a pattern has `keep` or `tail` groups, those parts (a key name, a
/// scheme, an `@`) stay and only the value goes.
const BUILT_IN: &[&str] = &[
    // PEM private keys, whole.
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)",
    // Authorization headers and bearer tokens.
    r"(?i)(?P<keep>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}",
    // key = value, key: value, "key": "value" for secret-sounding keys.
    r#"(?i)(?P<keep>\b[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)[a-z0-9_.-]*["']?\s*[:=]\s*["']?)[^\s"',;&]+"#,
    // user:password@ in URLs.
    r"(?P<keep>[a-z][a-z0-9+.-]*://)[^\s/@:]+:[^\s/@]+(?P<tail>@)",
    // Well-known token shapes: OpenAI, GitHub, Slack, AWS access keys, JWTs, Slack webhooks.
    r"\bsk-[A-Za-z0-9_-]{16,}",
    r"\bgh[pousr]_[A-Za-z0-9]{20,}",
    r"\bgithub_pat_[A-Za-z0-9_]{20,}",
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}",
    r"https://hooks\.slack\.com/[^\s]+",
    // Long hex strings: fleetdeck's agent tokens are 64 hex digits (hashes go too: harmless).
    r"\b[0-9a-fA-F]{32,}\b",
];

fn built_in() -> &'static [Regex] {
    static COMPILED: OnceLock<Vec<Regex>> = OnceLock::new();
    COMPILED.get_or_init(|| BUILT_IN.iter().filter_map(|p| Regex::new(p).ok()).collect())
}

/// Replaces secrets in text before it leaves this machine.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret containing another is replaced whole.
    known: Vec<String>,
    extra: Vec<Regex>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The known values are the secrets themselves: never printed.
        f.debug_struct("Redactor")
            .field("known", &self.known.len())
            .field("extra", &self.extra.len())
            .finish()
    }
}

impl Redactor {
    /// Built-in patterns, `[analysis] redact`, and `known` secret values.
    pub fn new<'a>(patterns: &[RedactPattern], known: impl IntoIterator<Item = &'a str>) -> Self {
        let mut r = Redactor {
            known: Vec::new(),
            extra: patterns.iter().map(|p| p.0.clone()).collect(),
        };
        r.add_known(known);
        r
    }

    /// More secret values (e.g. a token read later).
    pub fn add_known<'a>(&mut self, known: impl IntoIterator<Item = &'a str>) {
        for k in known {
            let k = k.trim();
            if k.len() >= MIN_KNOWN_LEN && !self.known.iter().any(|have| have == k) {
                self.known.push(k.to_string());
            }
        }
        self.known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }

    /// `text` with every secret replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for k in &self.known {
            if out.contains(k.as_str()) {
                out = out.replace(k.as_str(), REDACTED);
            }
        }
        for re in built_in().iter().chain(&self.extra) {
            out = re
                .replace_all(&out, |c: &Captures| {
                    let keep = c.name("keep").map_or("", |m| m.as_str());
                    let tail = c.name("tail").map_or("", |m| m.as_str());
                    format!("{keep}{REDACTED}{tail}")
                })
                .into_owned();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_patterns_catch_common_secrets_and_keep_the_rest() {
        let r = Redactor::new(&[], []);
        let cases = [
            (
                "Authorization: Bearer abcdEFGH1234.xyz",
                "Authorization: Bearer [redacted]",
            ),
            ("password=hunter2 user=bob", "password=[redacted] user=bob"),
            ("DB_PASSWORD: 's3cr3t!'", "DB_PASSWORD: '[redacted]'"),
            (
                "{\"api_key\": \"k-123456\"}",
                "{\"api_key\": \"[redacted]\"}",
            ),
            (
                "url https://bob:pa55@db.example/x",
                "url https://[redacted]@db.example/x",
            ),
            ("key sk-abcdefghijklmnopqrstu", "key [redacted]"),
            ("AKIAABCDEFGHIJKLMNOP here", "[redacted] here"),
            ("all fine: disk 93% on /var", "all fine: disk 93% on /var"),
        ];
        for (input, wanted) in cases {
            assert_eq!(r.redact(input), wanted, "{input}");
        }
        let token = "ab".repeat(32);
        assert_eq!(r.redact(&format!("t={token}.")), "t=[redacted].");
        let pem =
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\nBBBB\n-----END OPENSSH PRIVATE KEY-----";
        assert_eq!(r.redact(pem), REDACTED);
    }

    #[test]
    fn known_values_and_configured_patterns_go_and_debug_hides_them() {
        let extra = [RedactPattern(Regex::new(r"acct-\d+").unwrap())];
        let r = Redactor::new(&extra, ["plain-words-secret", "ab"]);
        assert_eq!(
            r.redact("x plain-words-secret y acct-991 ab"),
            "x [redacted] y [redacted] ab"
        );
        assert!(!format!("{r:?}").contains("plain-words"));
    }
}
