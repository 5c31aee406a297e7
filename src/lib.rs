//! fleetdeck: a terminal operations console for on-call engineers.
//!
//! Layers (docs/architecture.md): `config` and `inventory` describe the fleet, `store` keeps
//! what happened, `transport` reaches hosts, `engine` runs things across them and owns the
//! fleet session, `ui` holds the front ends. Lower layers never touch the terminal, and the UI
//! never names a transport.

pub mod action;
pub mod agent;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diag;
pub mod engine;
pub mod incident;
pub mod inventory;
pub mod logging;
pub mod metrics;
pub mod protocol;
pub mod store;
pub mod transport;
pub mod ui;
