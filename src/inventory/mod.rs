//! Hosts: the model, hosts.toml, node sets, selectors and importers.

pub mod file;
pub mod host;
pub mod import;
pub mod jump;
pub mod load;
pub mod nodeset;
pub mod selector;

pub use host::{AgentEndpoint, Host, Inventory, TransportKind};
