//! Which inventory hosts an Alertmanager alert is about. The labels tried, in order:
//! `instance` (a `host:port`, `[v6]:port`, bare address or URL, as Prometheus writes it), then
//! `host`, then `nodename`; each is compared with inventory names and addresses (case-blind),
//! then by its first DNS label (`web01.example.net` finds `web01`). An alert none of them maps
//! is kept with no hosts and the reason, never dropped.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;

/// The labels that may name a host, in the order they are tried.
pub const HOST_LABELS: [&str; 3] = ["instance", "host", "nodename"];

/// Inventory names and addresses, lower-cased, to host names. Built by the caller from the
/// inventory, so this module does not depend on its types.
#[derive(Debug, Clone, Default)]
pub struct HostIndex {
    by_key: HashMap<String, String>,
}

impl HostIndex {
    /// An index of `(name, address)` pairs; a name is found by itself and by its address.
    /// When two hosts share an address, the first keeps it.
    pub fn new<'a>(hosts: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> HostIndex {
        let mut by_key = HashMap::new();
        let mut addresses = Vec::new();
        for (name, address) in hosts {
            // Names win over addresses: insert every name first.
            by_key
                .entry(name.to_ascii_lowercase())
                .or_insert_with(|| name.to_string());
            if let Some(address) = address.filter(|a| !a.is_empty()) {
                addresses.push((host_part(address), name));
            }
        }
        for (address, name) in addresses {
            by_key
                .entry(address.to_ascii_lowercase())
                .or_insert_with(|| name.to_string());
        }
        HostIndex { by_key }
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The host a name or address belongs to: exact (case-blind), else by the first DNS label
    /// of a name that is not an IP address.
    pub fn lookup(&self, candidate: &str) -> Option<&str> {
        let key = candidate.to_ascii_lowercase();
        if let Some(host) = self.by_key.get(&key) {
            return Some(host);
        }
        if key.parse::<IpAddr>().is_ok() {
            return None;
        }
        let short = key.split('.').next().filter(|s| s.len() < key.len())?;
        self.by_key.get(short).map(String::as_str)
    }
}

/// Why an alert has no hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmapped {
    /// None of `instance`, `host`, `nodename`.
    NoHostLabel,
    /// The first host label present, and the host it names, which the inventory lacks.
    UnknownHost { label: String, value: String },
}

impl fmt::Display for Unmapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unmapped::NoHostLabel => f.write_str("no instance, host or nodename label"),
            Unmapped::UnknownHost { label, value } => {
                write!(f, "{label}={value:?} is not in the inventory")
            }
        }
    }
}

/// The hosts of an alert, or why there are none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostMatch {
    pub hosts: Vec<String>,
    pub unmapped: Option<Unmapped>,
}

/// Maps an alert's labels to inventory hosts (see the module header for the rules).
pub fn map_hosts(labels: &BTreeMap<String, String>, index: &HostIndex) -> HostMatch {
    let mut first_present = None;
    for label in HOST_LABELS {
        let Some(value) = labels
            .get(label)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        let candidate = host_part(value);
        if let Some(host) = index.lookup(&candidate) {
            return HostMatch {
                hosts: vec![host.to_string()],
                unmapped: None,
            };
        }
        first_present.get_or_insert_with(|| Unmapped::UnknownHost {
            label: label.to_string(),
            value: value.to_string(),
        });
    }
    HostMatch {
        hosts: Vec::new(),
        unmapped: Some(first_present.unwrap_or(Unmapped::NoHostLabel)),
    }
}

/// The host in an `instance`-like value: `web01:9100` → `web01`, `[::1]:9100` → `::1`,
/// `::1` → `::1`, `https://web01:8443/health` → `web01`, `web01` → `web01`.
pub fn host_part(value: &str) -> String {
    let value = value.trim();
    if value.contains("://")
        && let Ok(url) = reqwest::Url::parse(value)
        && let Some(host) = url.host_str()
    {
        return host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
    }
    if let Some(rest) = value.strip_prefix('[')
        && let Some((inside, _port)) = rest.split_once(']')
    {
        return inside.to_string();
    }
    // A bare IPv6 address has several colons and no port to strip.
    if value.parse::<IpAddr>().is_ok() {
        return value.to_string();
    }
    match value.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host.to_string()
        }
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn index() -> HostIndex {
        HostIndex::new([
            ("web01", Some("10.0.0.1")),
            ("web02", None),
            ("db1", Some("fd00::5")),
            ("app.example.net", Some("app.example.net")),
        ])
    }

    #[test]
    fn host_part_strips_ports_brackets_and_urls() {
        for (value, host) in [
            ("web01:9100", "web01"),
            ("web01", "web01"),
            ("10.0.0.1:9100", "10.0.0.1"),
            ("[fd00::5]:9100", "fd00::5"),
            ("[fd00::5]", "fd00::5"),
            ("fd00::5", "fd00::5"),
            ("::1", "::1"),
            ("https://web01:8443/health", "web01"),
            ("http://[fd00::5]:80/", "fd00::5"),
            ("web01:http", "web01:http"),
        ] {
            assert_eq!(host_part(value), host, "{value}");
        }
    }

    #[test]
    fn instance_host_and_nodename_are_tried_in_order() {
        let idx = index();
        let m = map_hosts(&labels(&[("instance", "10.0.0.1:9100")]), &idx);
        assert_eq!(m.hosts, ["web01"]);
        let m = map_hosts(&labels(&[("instance", "[FD00::5]:9100")]), &idx);
        assert_eq!(m.hosts, ["db1"]);
        let m = map_hosts(&labels(&[("host", "WEB02")]), &idx);
        assert_eq!(m.hosts, ["web02"]);
        let m = map_hosts(&labels(&[("nodename", "web02.example.net")]), &idx);
        assert_eq!(m.hosts, ["web02"]);
        // An unknown instance falls through to a known nodename.
        let m = map_hosts(
            &labels(&[("instance", "blackbox:9115"), ("nodename", "web01")]),
            &idx,
        );
        assert_eq!(m.hosts, ["web01"]);
        assert_eq!(m.unmapped, None);
    }

    #[test]
    fn unmapped_alerts_say_why() {
        let idx = index();
        let m = map_hosts(&labels(&[("alertname", "Watchdog")]), &idx);
        assert!(m.hosts.is_empty());
        assert_eq!(
            m.unmapped.map(|u| u.to_string()).as_deref(),
            Some("no instance, host or nodename label")
        );
        let m = map_hosts(
            &labels(&[("instance", "ghost:9100"), ("host", "phantom")]),
            &idx,
        );
        assert_eq!(
            m.unmapped.map(|u| u.to_string()).as_deref(),
            Some("instance=\"ghost:9100\" is not in the inventory")
        );
        // An IP address is never shortened to its first "label".
        let m = map_hosts(&labels(&[("instance", "10.0.0.9:9100")]), &idx);
        assert!(m.hosts.is_empty());
    }
}
