//! The Incidents view (view 4): the active incidents and the newest resolved ones, as the
//! session's book follower published them, grouped by title, source or host (`s`), narrowed
//! by `/`; enter opens one (timeline, labels, annotations, runbook link); `a` acknowledges,
//! `r` resolves, `n` notes, each asking for its text first and written by the event loop
//! through the session; `x` opens the runbook's action for the incident's hosts (fix.rs), `A`
//! asks the `[analysis]` endpoint (analysis.rs). State in state.rs, keys in keys.rs, drawing
//! in view.rs.

pub mod analysis;
pub mod fix;
pub mod keys;
pub mod state;
pub mod view;

#[cfg(test)]
mod fix_tests;
#[cfg(test)]
pub(super) mod tests;

pub use state::{Grouping, IncidentsState};
