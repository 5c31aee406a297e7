//! `fleetdeck agent`: the server end of the agent transport, run on target hosts.
//! docs/agent.md is the reference for the protocol, the policy and the files.

mod alert_feed;
pub mod alerts;
mod auth;
pub mod init;
pub mod jobs;
pub mod locks;
pub mod metrics;
pub mod policy;
pub mod server;
mod session;
pub mod tls;
pub mod tokens;
