//! The Fleet view: the inventory as a table with each host's metrics, narrowed by `:target`
//! and the `/` fuzzy filter, sorted by any column, with marks for choosing a run's hosts. State
//! in state.rs, matching in filter.rs, order in sort.rs, keys in keys.rs, which columns fit in
//! columns.rs, drawing in view.rs and metric_cells.rs. It reads no file and reaches no host:
//! the inventory, the last results, the connection states and the metrics frame come in
//! through the model.

pub mod columns;
pub mod filter;
pub mod keys;
pub(crate) mod metric_cells;
pub mod sort;
pub mod state;
pub mod view;

#[cfg(test)]
mod tests;

pub use sort::{Facts, Sort, SortColumn};
pub use state::{FleetState, Target};
