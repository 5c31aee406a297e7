//! The resolved host model: what every other layer sees once hosts.toml is loaded.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

/// How fleetdeck reaches a host.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    #[default]
    Ssh,
    Agent,
    Local,
}

impl TransportKind {
    pub const ALL: [TransportKind; 3] = [
        TransportKind::Ssh,
        TransportKind::Agent,
        TransportKind::Local,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Ssh => "ssh",
            TransportKind::Agent => "agent",
            TransportKind::Local => "local",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where and how to reach a host's agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentEndpoint {
    /// `wss://host:port` (or `ws://` for loopback demos).
    pub url: String,
    /// File holding the exec-scope bearer token (never the token itself in hosts.toml).
    /// Optional when `read_token_file` is given: such a host can be watched, not run on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
    /// File holding a read-scope token: what a read-only front end (the wallboard) uses, so
    /// its machine need hold no exec token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_token_file: Option<String>,
    /// Pinned SHA-256 fingerprint of the agent's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// Where a host's metrics come from besides its transport (`metrics = { … }` in hosts.toml).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsEndpoint {
    /// A Prometheus node_exporter, `http://ADDR:9100/metrics`; `{name}` and `{address}` are
    /// replaced per host (for node-set entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_exporter: Option<String>,
}

/// One concrete host after node-set expansion and defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Host {
    pub name: String,
    /// Network address; `None` means the name is resolved through the ssh config / DNS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub transport: TransportKind,
    pub tags: BTreeSet<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    pub groups: BTreeSet<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    /// Jump host (an inventory name or ssh destination), like ProxyJump.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jump: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentEndpoint>,
    /// Its node_exporter, if its owner named one (already expanded for this host).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_exporter: Option<String>,
    /// False for a name given on the command line that is not in hosts.toml (resolved through
    /// the ssh config, like `pdsh -w`).
    pub in_inventory: bool,
}

impl Host {
    /// A host known only by name: a plain ssh destination not in the inventory.
    pub fn ad_hoc(name: &str) -> Self {
        Self {
            name: name.to_string(),
            address: None,
            port: None,
            user: None,
            transport: TransportKind::Ssh,
            tags: BTreeSet::new(),
            env: None,
            groups: BTreeSet::new(),
            vars: BTreeMap::new(),
            jump: None,
            agent: None,
            node_exporter: None,
            in_inventory: false,
        }
    }

    /// The address to connect to: the explicit address, else the name.
    pub fn destination(&self) -> &str {
        self.address.as_deref().unwrap_or(&self.name)
    }
}

/// All hosts of hosts.toml in file order, with indexes for selectors.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    hosts: Vec<Host>,
    by_name: HashMap<String, usize>,
}

impl Inventory {
    /// Builds an inventory; the caller guarantees names are unique (the loader reports
    /// duplicates with their file positions). A later duplicate replaces nothing: first wins.
    pub fn new(hosts: Vec<Host>) -> Self {
        let mut by_name = HashMap::with_capacity(hosts.len());
        for (i, h) in hosts.iter().enumerate() {
            by_name.entry(h.name.clone()).or_insert(i);
        }
        Self { hosts, by_name }
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub fn get(&self, name: &str) -> Option<&Host> {
        self.index_of(name).map(|i| &self.hosts[i])
    }

    /// Every group name used by any host, sorted.
    pub fn groups(&self) -> BTreeSet<&str> {
        self.hosts
            .iter()
            .flat_map(|h| h.groups.iter().map(String::as_str))
            .collect()
    }

    /// Every tag used by any host, sorted.
    pub fn tags(&self) -> BTreeSet<&str> {
        self.hosts
            .iter()
            .flat_map(|h| h.tags.iter().map(String::as_str))
            .collect()
    }

    /// Every environment used by any host, sorted.
    pub fn envs(&self) -> BTreeSet<&str> {
        self.hosts.iter().filter_map(|h| h.env.as_deref()).collect()
    }
}
