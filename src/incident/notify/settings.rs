//! `[notify]`, `[notify.slack]` and `[notify.webhook]` in config.toml: where notices go and how
//! hard delivery tries. The Slack URL is a secret, so config.toml names where it is (an
//! environment variable or a file), never the URL itself.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use super::secret_url::SecretUrl;
use crate::config::units::HumanDuration;

/// `[notify]`: delivery limits shared by every sink, and the sinks.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifySettings {
    /// Notices sent per sink per minute at most; the rest are counted and summed up in one
    /// notice when the minute is over.
    #[serde(deserialize_with = "de_per_minute")]
    pub per_minute: u32,
    /// One request at most, connecting and reading the answer included.
    #[serde(deserialize_with = "de_timeout")]
    pub timeout: HumanDuration,
    /// Tries per notice (the first included) on 5xx, 429, timeouts and connection errors.
    #[serde(deserialize_with = "de_attempts")]
    pub attempts: u32,
    pub slack: SlackSettings,
    pub webhook: WebhookSettings,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            per_minute: 20,
            timeout: HumanDuration(Duration::from_secs(10)),
            attempts: 4,
            slack: SlackSettings::default(),
            webhook: WebhookSettings::default(),
        }
    }
}

/// `[notify.slack]`: a Slack incoming webhook. Set one of the two, or neither (off).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackSettings {
    /// The environment variable holding the webhook URL.
    pub webhook_url_env: String,
    /// A file whose first line is the webhook URL (relative to the config folder).
    pub webhook_url_file: String,
}

/// `[notify.webhook]`: a JSON POST of every notice (README documents the body). Its `Debug`
/// shows the URL as scheme and host only (a token may be in its path or query).
#[derive(Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// `http(s)://…`; empty turns it off. Shown only as scheme and host.
    #[serde(deserialize_with = "de_webhook_url")]
    pub url: String,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = match SecretUrl::parse(&self.url) {
            Ok(url) => url.redacted().to_string(),
            Err(_) if self.url.trim().is_empty() => String::new(),
            Err(_) => "(not a URL)".to_string(),
        };
        f.debug_struct("WebhookSettings")
            .field("url", &shown)
            .finish()
    }
}

impl SlackSettings {
    /// The webhook URL from where the settings say, `None` when Slack is off. `config_dir`
    /// anchors a relative `webhook_url_file`. Errors name the variable or file, never the URL.
    pub fn webhook_url(&self, config_dir: &Path) -> Result<Option<SecretUrl>, String> {
        let env = self.webhook_url_env.trim();
        let file = self.webhook_url_file.trim();
        let text = match (env.is_empty(), file.is_empty()) {
            (true, true) => return Ok(None),
            (false, false) => {
                return Err(
                    "[notify.slack]: set webhook_url_env or webhook_url_file, not both".to_string(),
                );
            }
            (false, true) => std::env::var(env).map_err(|e| {
                format!("[notify.slack] webhook_url_env: environment variable {env}: {e}")
            })?,
            (true, false) => {
                let path = anchored(config_dir, file);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    format!(
                        "[notify.slack] webhook_url_file: {}: cannot read: {e}",
                        path.display()
                    )
                })?;
                text.lines().next().unwrap_or_default().to_string()
            }
        };
        let from = if env.is_empty() {
            format!("webhook_url_file {file}")
        } else {
            format!("webhook_url_env {env}")
        };
        SecretUrl::parse(&text)
            .map(Some)
            .map_err(|why| format!("[notify.slack] {from}: {why}"))
    }
}

impl WebhookSettings {
    /// The webhook URL, `None` when off.
    pub fn url(&self) -> Result<Option<SecretUrl>, String> {
        let url = self.url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        SecretUrl::parse(url)
            .map(Some)
            .map_err(|why| format!("[notify.webhook] url: {why}"))
    }
}

fn anchored(dir: &Path, file: &str) -> PathBuf {
    let path = Path::new(file);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

fn de_webhook_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    // The message never repeats the URL: it may carry a token.
    SecretUrl::parse(trimmed)
        .map_err(|why| serde::de::Error::custom(format!("url: {why} (or empty for off)")))?;
    Ok(trimmed.to_string())
}

fn de_per_minute<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = i64::deserialize(d)?;
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=600).contains(n))
        .ok_or_else(|| {
            serde::de::Error::custom(format!("per_minute must be between 1 and 600, got {n}"))
        })
}

fn de_attempts<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = i64::deserialize(d)?;
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=10).contains(n))
        .ok_or_else(|| {
            serde::de::Error::custom(format!("attempts must be between 1 and 10, got {n}"))
        })
}

fn de_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<HumanDuration, D::Error> {
    let value = HumanDuration::deserialize(d)?;
    if value.0 < Duration::from_secs(1) {
        return Err(serde::de::Error::custom(format!(
            "timeout must be at least 1s, got {value}"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn parse(src: &str) -> Result<Settings, String> {
        Settings::parse(Path::new("config.toml"), src).map_err(|d| d.to_string())
    }

    #[test]
    fn sinks_are_off_by_default() {
        let Ok(s) = parse("") else {
            panic!("empty config refused")
        };
        assert_eq!(
            s.notify.slack.webhook_url(Path::new("/nonexistent")),
            Ok(None)
        );
        assert_eq!(s.notify.webhook.url(), Ok(None));
    }

    #[test]
    fn a_bad_webhook_url_points_at_the_value_without_repeating_it() {
        let Err(err) = parse("[notify.webhook]\nurl = \"hooks.example/secret-token\"\n") else {
            panic!("bad url accepted")
        };
        assert!(err.starts_with("config.toml:2:7: url: not a URL"), "{err}");
        assert!(!err.contains("secret-token"), "{err}");
        let Err(err) = parse("[notify]\nper_minute = 0\n") else {
            panic!("0 per minute accepted")
        };
        assert!(
            err.contains("per_minute must be between 1 and 600"),
            "{err}"
        );
    }

    #[test]
    fn debug_hides_the_webhook_url() {
        let w = WebhookSettings {
            url: "https://hooks.example/T1/secret?token=abc".to_string(),
        };
        let shown = format!("{w:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("abc"),
            "{shown}"
        );
        assert!(shown.contains("https://hooks.example/…"), "{shown}");
    }

    #[test]
    fn the_slack_url_comes_from_a_file_or_the_environment() {
        let Ok(dir) = tempfile::tempdir() else {
            panic!("no temp dir")
        };
        let hook = "https://hooks.slack.com/services/T1/B2/secret";
        if let Err(e) = std::fs::write(dir.path().join("slack.url"), format!("{hook}\n")) {
            panic!("cannot write: {e}")
        }
        let from_file = SlackSettings {
            webhook_url_file: "slack.url".to_string(),
            ..SlackSettings::default()
        };
        let url = from_file.webhook_url(dir.path());
        let Ok(Some(url)) = url else {
            panic!("{url:?}")
        };
        assert_eq!(url.redacted(), "https://hooks.slack.com/…");
        let missing = SlackSettings {
            webhook_url_env: "FLEETDECK_TEST_NO_SUCH_VARIABLE".to_string(),
            ..SlackSettings::default()
        };
        let Err(e) = missing.webhook_url(dir.path()) else {
            panic!("missing variable accepted")
        };
        assert!(e.contains("FLEETDECK_TEST_NO_SUCH_VARIABLE"), "{e}");
        let both = SlackSettings {
            webhook_url_env: "X".to_string(),
            webhook_url_file: "slack.url".to_string(),
        };
        assert!(both.webhook_url(dir.path()).is_err());
        if let Err(e) = std::fs::write(dir.path().join("bad.url"), "hooks.slack.com/secret\n") {
            panic!("cannot write: {e}")
        }
        let bad = SlackSettings {
            webhook_url_file: "bad.url".to_string(),
            ..SlackSettings::default()
        };
        let Err(e) = bad.webhook_url(dir.path()) else {
            panic!("bad url accepted")
        };
        assert!(e.contains("bad.url") && !e.contains("secret"), "{e}");
    }
}
