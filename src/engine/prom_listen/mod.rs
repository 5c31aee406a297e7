//! `[metrics] listen`: the console serves `/metrics` (Prometheus text) so an existing
//! Prometheus and Grafana can chart what fleetdeck collects. It holds only a `FleetReader`:
//! serving cannot start, cancel or lock anything. Bounded: a few connections at once, a
//! header timeout, GET and HEAD on `/metrics` only.

mod render;
mod serve;

pub use render::render;
pub use serve::{Listening, listen};
