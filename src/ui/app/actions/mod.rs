//! The Actions view: the catalog of action templates (and the files that did not load), a
//! `/` filter, and the parameter form that previews and submits one. State in state.rs (the
//! list) and form.rs (the form), keys in keys.rs (list, `:action`, History's `a` and `r`) and
//! form_keys.rs, drawing in view.rs and form_view.rs. The folder of templates is read by the
//! event loop (`Effect::LoadActions`), never here; a submitted form is a confirmation, and the
//! run an `Effect::StartRun`.

pub mod form;
pub mod form_keys;
pub mod form_view;
pub mod keys;
pub mod state;
pub mod view;

#[cfg(test)]
pub(crate) mod tests;

pub use state::{ActionsState, PreparedRun};
