//! A webhook URL that is a secret (a Slack incoming webhook is its own credential): it is
//! shown, logged and put in errors only as scheme and host (`https://hooks.slack.com/…`).

use std::fmt;

/// A URL whose path, query and credentials never leave this type except to make the request.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl {
    url: reqwest::Url,
    shown: String,
}

impl SecretUrl {
    /// Parses `text` as an http(s) URL. The error never repeats `text`.
    pub fn parse(text: &str) -> Result<SecretUrl, String> {
        let url = reqwest::Url::parse(text.trim())
            .map_err(|e| format!("not a URL ({e}); expected https://host/…"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "scheme `{}:` is not http or https; expected https://host/…",
                url.scheme()
            ));
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err("the URL names no host; expected https://host/…".to_string());
        };
        let shown = match url.port() {
            Some(port) => format!("{}://{host}:{port}/…", url.scheme()),
            None => format!("{}://{host}/…", url.scheme()),
        };
        Ok(SecretUrl { url, shown })
    }

    /// Scheme and host only: what logs, errors and the console show.
    pub fn redacted(&self) -> &str {
        &self.shown
    }

    /// The whole URL, for the request itself.
    pub(crate) fn expose(&self) -> &reqwest::Url {
        &self.url
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({})", self.shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOOK: &str = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX";

    #[test]
    fn only_scheme_and_host_are_shown() {
        let Ok(url) = SecretUrl::parse(HOOK) else {
            panic!("hook refused")
        };
        for shown in [
            url.to_string(),
            format!("{url:?}"),
            url.redacted().to_string(),
        ] {
            assert!(
                !shown.contains("secret") && !shown.contains("T000"),
                "{shown}"
            );
            assert!(shown.contains("https://hooks.slack.com/…"), "{shown}");
        }
        assert_eq!(url.expose().as_str(), HOOK);
        let Ok(local) = SecretUrl::parse("http://127.0.0.1:8080/hook?token=abc") else {
            panic!("local refused")
        };
        assert_eq!(local.redacted(), "http://127.0.0.1:8080/…");
    }

    #[test]
    fn errors_do_not_repeat_the_text() {
        for bad in [
            "hooks.slack.com/services/secret",
            "ftp://h/secret",
            "secret",
        ] {
            let Err(e) = SecretUrl::parse(bad) else {
                panic!("{bad} accepted")
            };
            assert!(!e.contains("secret"), "{e}");
        }
    }
}
