//! The Fleet view: the inventory as a table, narrowed by `:target` and the `/` fuzzy filter,
//! with marks for choosing a run's hosts. State in state.rs, matching in filter.rs, keys in
//! keys.rs, drawing in view.rs. It reads no file and reaches no host: the inventory, the last
//! results and the connection states come in through the model.

pub mod filter;
pub mod keys;
pub mod state;
pub mod view;

#[cfg(test)]
mod tests;

pub use state::{FleetState, Target};
