//! Shared helpers for integration tests. Each test binary does `mod support;` and uses what it
//! needs; items a given binary leaves unused are allowed to be dead code.

#![allow(dead_code)]

pub mod agent;
pub mod cli;
pub mod engine;
pub mod files;
pub mod http_stub;
pub mod node_exporter;
pub mod proc_here;
pub mod sshd;
