//! Per-host locks for actions with `requires_lock`. (Filled in by the locks work.)

/// Takes and releases per-host locks, locally and on the hosts.
pub struct LockManager {}
