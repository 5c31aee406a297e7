//! One action at a time per host, across concurrent runs in this process.
//! (Filled in by the engine-guards work: acquire/release per host name.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Per-host slots shared by the runs of one `RunContext`.
#[derive(Clone, Default)]
pub struct HostSlots {
    #[allow(dead_code)]
    inner: Arc<Mutex<HashMap<String, usize>>>,
}
