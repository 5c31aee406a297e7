//! Why a request to Alertmanager failed, naming the URL asked (without any user:password in
//! it) and, where it helps, what to check.

use std::fmt;
use std::time::Duration;

/// A failed request: where, and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Alertmanager at {endpoint}: {kind}")]
pub struct AmError {
    /// The URL asked, credentials removed.
    pub endpoint: String,
    pub kind: AmErrorKind,
}

/// The kinds of failure, short enough for a status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmErrorKind {
    /// The URL is not an http(s) URL with a host.
    BadUrl(String),
    /// Nothing listens there.
    Refused,
    /// No connection for another reason (DNS, unreachable, TLS).
    Connect(String),
    /// No whole answer within this long.
    TimedOut(Duration),
    /// An answer with a status other than 2xx, and the start of its body.
    Status { code: u16, body: String },
    /// The body went past this many bytes; the rest was not read.
    TooLarge(usize),
    /// The body broke off.
    Body(String),
    /// The answer is not what Alertmanager's API v2 sends.
    Garbage(String),
    /// The HTTP client could not be set up.
    Client(String),
}

impl fmt::Display for AmErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmErrorKind::BadUrl(why) => write!(f, "bad URL: {why}"),
            AmErrorKind::Refused => f.write_str(
                "connection refused: is Alertmanager running there? (check [alertmanager] url)",
            ),
            AmErrorKind::Connect(why) => write!(f, "cannot connect: {why}"),
            AmErrorKind::TimedOut(after) => write!(
                f,
                "no answer within {} (timed out; see [alertmanager] timeout)",
                crate::config::units::HumanDuration(*after)
            ),
            AmErrorKind::Status { code, body } if body.is_empty() => write!(f, "HTTP {code}"),
            AmErrorKind::Status { code, body } => write!(f, "HTTP {code}: {body}"),
            AmErrorKind::TooLarge(max) => {
                write!(f, "answer larger than {} MiB; not read", max >> 20)
            }
            AmErrorKind::Body(why) => write!(f, "answer cut off: {why}"),
            AmErrorKind::Garbage(why) => f.write_str(why),
            AmErrorKind::Client(why) => write!(f, "HTTP client: {why}"),
        }
    }
}

/// `url` as shown in messages: without user name and password.
pub fn redact(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    // Both fail only for URLs that cannot have credentials; then there is nothing to hide.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_url_and_what_to_check() {
        let e = AmError {
            endpoint: "http://127.0.0.1:9/api/v2/alerts".to_string(),
            kind: AmErrorKind::Refused,
        };
        assert_eq!(
            e.to_string(),
            "Alertmanager at http://127.0.0.1:9/api/v2/alerts: connection refused: is \
             Alertmanager running there? (check [alertmanager] url)"
        );
        let e = AmErrorKind::TimedOut(Duration::from_secs(10));
        assert!(e.to_string().starts_with("no answer within 10s"), "{e}");
    }

    #[test]
    fn credentials_are_not_shown() {
        let Ok(url) = reqwest::Url::parse("http://admin:s3cret@am:9093/api/v2/alerts") else {
            panic!("bad test URL")
        };
        assert_eq!(redact(&url), "http://am:9093/api/v2/alerts");
    }
}
