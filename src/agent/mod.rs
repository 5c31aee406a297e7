//! `fleetdeck agent`: the server end of the agent transport, run on target hosts.

pub mod alerts;
pub mod metrics;
