//! The per-host circuit breaker. (Filled in by the engine-guards work.)

use crate::config::settings::BreakerSettings;

/// Consecutive connection failures per host; open hosts are skipped until a cool-down passes.
#[derive(Clone)]
pub struct Breaker {
    #[allow(dead_code)]
    settings: BreakerSettings,
}

impl Breaker {
    pub fn new(settings: &BreakerSettings) -> Self {
        Self {
            settings: settings.clone(),
        }
    }
}
