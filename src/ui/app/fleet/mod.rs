//! The Fleet view: the inventory as a table, narrowed by `:target` and the `/` fuzzy filter,
//! with marks for choosing a run's hosts. State in state.rs, matching in filter.rs, keys in
//! keys.rs, drawing in view.rs.

pub mod filter;
pub mod keys;
pub mod state;
pub mod view;

#[cfg(test)]
mod tests;

pub use state::{FleetState, Target};
