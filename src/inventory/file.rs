//! The on-disk schema of hosts.toml, shared by the loader and the importers (which print it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::host::{AgentEndpoint, MetricsEndpoint, TransportKind};

/// hosts.toml as written by people: `[defaults]` then `[[hosts]]` entries.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryFile {
    #[serde(default, skip_serializing_if = "HostDefaults::is_empty")]
    pub defaults: HostDefaults,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<HostEntry>,
}

/// Values every `[[hosts]]` entry inherits unless it sets its own. Tags, groups and vars are
/// merged (entry values added to / overriding the defaults), the rest are replaced.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HostDefaults {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jump: Option<String>,
}

impl HostDefaults {
    pub fn is_empty(&self) -> bool {
        self.user.is_none()
            && self.port.is_none()
            && self.transport.is_none()
            && self.env.is_none()
            && self.tags.is_empty()
            && self.groups.is_empty()
            && self.vars.is_empty()
            && self.jump.is_none()
    }
}

/// One `[[hosts]]` entry. `name` may be a node set (`web[01-20]`); `address` may then be a node
/// set of the same size (`10.0.1.[1-20]`, zipped in order) or contain `{name}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HostEntry {
    pub name: Spanned<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jump: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentEndpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsEndpoint>,
}

impl HostEntry {
    /// An entry with only a name, for importers to fill in.
    pub fn named(name: &str) -> Self {
        Self {
            name: Spanned::new(0..0, name.to_string()),
            address: None,
            port: None,
            user: None,
            transport: None,
            tags: Vec::new(),
            env: None,
            groups: Vec::new(),
            vars: BTreeMap::new(),
            jump: None,
            agent: None,
            metrics: None,
        }
    }
}

impl InventoryFile {
    /// The TOML text of this inventory, as the importers print it.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }
}
