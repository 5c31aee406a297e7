//! `[alertmanager]` in config.toml: where Alertmanager listens, how often it is polled, how long
//! a request may take and how long an acknowledgement silences an alert. Checked when the file
//! is read, so `fleetdeck check` points at a bad URL by line and column.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::config::units::HumanDuration;

/// `[alertmanager]`: the Prometheus Alertmanager polled for alerts (API v2).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertmanagerSettings {
    /// Base URL, e.g. `http://127.0.0.1:9093` (a path prefix such as `/alertmanager` is kept);
    /// empty turns the source off.
    #[serde(deserialize_with = "de_url")]
    pub url: String,
    /// How long the silence made by an acknowledgement lasts.
    #[serde(deserialize_with = "de_at_least_a_minute")]
    pub ack_silence: HumanDuration,
    /// How often `/api/v2/alerts` is read.
    #[serde(deserialize_with = "de_at_least_a_second")]
    pub poll_interval: HumanDuration,
    /// One request at most, connecting and reading the answer included.
    #[serde(deserialize_with = "de_at_least_a_second")]
    pub timeout: HumanDuration,
    /// Where the console or `fleetdeck watch` takes Alertmanager's webhook
    /// (`http://ADDR/alertmanager`): each notification makes it poll at once. Empty: off,
    /// polled every `poll_interval` only.
    #[serde(deserialize_with = "crate::config::settings::de_listen")]
    pub listen: String,
}

impl Default for AlertmanagerSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            ack_silence: HumanDuration(Duration::from_secs(2 * 3600)),
            poll_interval: HumanDuration(Duration::from_secs(15)),
            timeout: HumanDuration(Duration::from_secs(10)),
            listen: String::new(),
        }
    }
}

impl AlertmanagerSettings {
    /// The base URL, `None` when the source is off.
    pub fn url(&self) -> Option<&str> {
        Some(self.url.trim()).filter(|u| !u.is_empty())
    }

    /// The webhook's listen address, `None` when off.
    pub fn listen(&self) -> Option<&str> {
        Some(self.listen.trim()).filter(|l| !l.is_empty())
    }
}

/// Why `text` is not a usable Alertmanager base URL (shared with the client, which is also
/// handed URLs that did not come from config.toml).
pub fn check_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text.trim()).map_err(|e| {
        format!(
            "url must be an http(s) URL such as \"http://127.0.0.1:9093\" (or empty for off): {e}"
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "url must be an http(s) URL such as \"http://127.0.0.1:9093\", not `{}:`",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("url must name a host, e.g. \"http://127.0.0.1:9093\"".to_string());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("url must be Alertmanager's base URL, without `?` or `#`".to_string());
    }
    Ok(url)
}

fn de_url<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    check_url(trimmed).map_err(serde::de::Error::custom)?;
    Ok(trimmed.to_string())
}

fn de_at_least<'de, D: Deserializer<'de>>(
    d: D,
    least: Duration,
    what: &str,
) -> Result<HumanDuration, D::Error> {
    let value = HumanDuration::deserialize(d)?;
    if value.0 < least {
        return Err(serde::de::Error::custom(format!(
            "must be at least {what}, got {value}"
        )));
    }
    Ok(value)
}

fn de_at_least_a_second<'de, D: Deserializer<'de>>(d: D) -> Result<HumanDuration, D::Error> {
    de_at_least(d, Duration::from_secs(1), "1s")
}

fn de_at_least_a_minute<'de, D: Deserializer<'de>>(d: D) -> Result<HumanDuration, D::Error> {
    de_at_least(d, Duration::from_secs(60), "1m")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use std::path::Path;

    fn parse(src: &str) -> Result<Settings, String> {
        Settings::parse(Path::new("config.toml"), src).map_err(|d| d.to_string())
    }

    #[test]
    fn defaults_are_off_with_a_two_hour_ack() {
        let Ok(s) = parse("") else {
            panic!("empty config refused")
        };
        assert_eq!(s.alertmanager.url(), None);
        assert_eq!(s.alertmanager.ack_silence.0, Duration::from_secs(7200));
    }

    #[test]
    fn values_are_read() {
        let s = parse(
            "[alertmanager]\nurl = \"http://127.0.0.1:9093/am/\"\nack_silence = \"30m\"\npoll_interval = \"5s\"\n",
        );
        let Ok(s) = s else { panic!("{s:?}") };
        assert_eq!(s.alertmanager.url(), Some("http://127.0.0.1:9093/am/"));
        assert_eq!(s.alertmanager.ack_silence.0, Duration::from_secs(1800));
        assert_eq!(s.alertmanager.poll_interval.0, Duration::from_secs(5));
    }

    #[test]
    fn a_bad_url_points_at_the_value() {
        for (url, why) in [
            ("localhost:9093", "must be an http(s) URL"),
            ("not a url", "must be an http(s) URL"),
            ("ftp://am:21", "not `ftp:`"),
            ("http://am:9093/?x=1", "without `?`"),
        ] {
            let err = parse(&format!("[alertmanager]\nurl = \"{url}\"\n"));
            let Err(err) = err else {
                panic!("{url} accepted")
            };
            assert!(err.starts_with("config.toml:2:7: url must"), "{err}");
            assert!(err.contains(why), "{url}: {err}");
        }
    }

    #[test]
    fn durations_have_floors() {
        let Err(err) = parse("[alertmanager]\nack_silence = \"10s\"\n") else {
            panic!("10s ack accepted")
        };
        assert!(
            err.starts_with("config.toml:2:15: must be at least 1m"),
            "{err}"
        );
        let Err(err) = parse("[alertmanager]\npoll_interval = \"0s\"\n") else {
            panic!("0s poll accepted")
        };
        assert!(err.contains("must be at least 1s"), "{err}");
    }
}
