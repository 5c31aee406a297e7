//! The transports a run may use, by kind: built by `launch::transports`, shared through the
//! `RunContext`. Its own file so that the context, the queue and the scheduler all name it
//! without importing each other.

use std::collections::HashMap;
use std::sync::Arc;

use crate::inventory::TransportKind;
use crate::transport::Transport;

/// The transports a run may use, by kind. A host whose kind is missing fails with an error
/// instead of the run failing.
#[derive(Clone, Default)]
pub struct Transports {
    by_kind: HashMap<TransportKind, Arc<dyn Transport>>,
}

impl Transports {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, kind: TransportKind, t: Arc<dyn Transport>) -> Self {
        self.by_kind.insert(kind, t);
        self
    }

    pub fn get(&self, kind: TransportKind) -> Option<Arc<dyn Transport>> {
        self.by_kind.get(&kind).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_by_kind() {
        let t = Transports::new().with(
            TransportKind::Local,
            Arc::new(crate::transport::local::LocalTransport),
        );
        assert!(t.get(TransportKind::Local).is_some());
        assert!(t.get(TransportKind::Agent).is_none());
    }
}
