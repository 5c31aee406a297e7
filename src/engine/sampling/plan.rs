//! Which source samples each host, decided once from hosts.toml and `[metrics]`: a host whose
//! owner named a node_exporter (or every host, with `node_exporter_port`) is scraped; other
//! SSH hosts are probed over their pooled connection; agent hosts report in their heartbeats;
//! local hosts (wrappers on this machine) have metrics only from a configured exporter.

use std::time::Duration;

use crate::config::MetricsSettings;
use crate::inventory::{Host, TransportKind};

/// How one host is sampled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Scraped at this URL.
    Exporter(String),
    /// The /proc probe over SSH.
    SshProbe,
    /// Its agent's heartbeats.
    Agent,
    /// Nothing samples it, and why (shown once, never retried).
    None(String),
}

impl Plan {
    /// How often the plan's source reports (for staleness), if it reports at all.
    pub fn interval(&self, settings: &MetricsSettings) -> Option<Duration> {
        match self {
            Plan::Exporter(_) => settings.exporter_interval(),
            Plan::SshProbe => settings.ssh_interval(),
            // Known from each heartbeat; until then, the agent's default.
            Plan::Agent => Some(Duration::from_secs(5)),
            Plan::None(_) => None,
        }
    }
}

/// The plan for `host`.
pub fn plan_for(host: &Host, settings: &MetricsSettings) -> Plan {
    let exporter = host.node_exporter.clone().or_else(|| {
        (settings.node_exporter_port != 0).then(|| {
            let addr = host.address.as_deref().unwrap_or(&host.name);
            let addr = if addr.contains(':') && !addr.starts_with('[') {
                format!("[{addr}]")
            } else {
                addr.to_string()
            };
            format!("http://{addr}:{}/metrics", settings.node_exporter_port)
        })
    });
    if let Some(url) = exporter {
        return if settings.exporter_interval().is_some() {
            Plan::Exporter(url)
        } else {
            Plan::None(
                "node_exporter scraping is off ([metrics] exporter_interval = \"0s\")".into(),
            )
        };
    }
    match host.transport {
        TransportKind::Agent => Plan::Agent,
        TransportKind::Ssh if settings.ssh_interval().is_some() => Plan::SshProbe,
        TransportKind::Ssh => {
            Plan::None("SSH sampling is off ([metrics] ssh_interval = \"0s\")".into())
        }
        TransportKind::Local => Plan::None(
            "a local host has metrics only from a node_exporter (metrics = { node_exporter = URL })"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(t: TransportKind) -> Host {
        let mut h = Host::ad_hoc("web1");
        h.transport = t;
        h
    }

    #[test]
    fn exporter_wins_then_the_transport_decides() {
        let mut s = MetricsSettings::default();
        assert_eq!(plan_for(&host(TransportKind::Ssh), &s), Plan::SshProbe);
        assert_eq!(plan_for(&host(TransportKind::Agent), &s), Plan::Agent);
        assert!(matches!(
            plan_for(&host(TransportKind::Local), &s),
            Plan::None(_)
        ));
        let mut h = host(TransportKind::Local);
        h.node_exporter = Some("http://127.0.0.1:9100/metrics".into());
        assert_eq!(
            plan_for(&h, &s),
            Plan::Exporter("http://127.0.0.1:9100/metrics".into())
        );
        s.node_exporter_port = 9100;
        let mut h = host(TransportKind::Ssh);
        h.address = Some("10.0.0.7".into());
        assert_eq!(
            plan_for(&h, &s),
            Plan::Exporter("http://10.0.0.7:9100/metrics".into())
        );
        h.address = Some("::1".into());
        assert_eq!(
            plan_for(&h, &s),
            Plan::Exporter("http://[::1]:9100/metrics".into())
        );
    }

    #[test]
    fn zero_intervals_turn_sources_off() {
        let s = MetricsSettings {
            ssh_interval: crate::config::units::HumanDuration(Duration::ZERO),
            ..MetricsSettings::default()
        };
        assert!(matches!(
            plan_for(&host(TransportKind::Ssh), &s),
            Plan::None(_)
        ));
    }
}
