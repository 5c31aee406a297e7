//! Host locks taken and released by hand (`fleetdeck locks take|release`) over the session's
//! transports: here, on each host, all or nothing when taking; forced releases audited.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream;

use super::FleetSession;
use crate::engine::audit::AuditRecord;
use crate::engine::locks::{LockError, LockHolder, LockManager, Released};
use crate::inventory::Host;
use crate::transport::{ErrorKind, Transport};

/// How to reach the hosts for locks.
#[derive(Debug, Clone, Copy)]
pub struct LockReach {
    pub connect_timeout: Duration,
    /// Hosts worked on at once.
    pub fanout: usize,
}

/// What taking locks came to: every lock kept, or none (and why each failed host failed).
pub struct Taken {
    pub kept: Vec<LockHolder>,
    pub failed: Vec<LockError>,
    /// Locks taken on the way that could not be given back after another host failed.
    pub not_given_back: Vec<LockError>,
}

impl FleetSession {
    fn lock_manager(&self) -> Result<Arc<LockManager>, LockError> {
        self.inner
            .locks
            .clone()
            .ok_or_else(|| LockError::new(ErrorKind::Io, "this session keeps no locks".to_string()))
    }

    fn transport_for(&self, host: &Host) -> Result<Arc<dyn Transport>, LockError> {
        self.transports_for(std::slice::from_ref(host))
            .map_err(|e| LockError::new(ErrorKind::Io, e))?
            .get(host.transport)
            .ok_or_else(|| {
                LockError::new(
                    ErrorKind::Io,
                    format!(
                        "{}: no {:?} transport is set up for this host",
                        host.name, host.transport
                    ),
                )
            })
    }

    /// Takes `hosts` for manual work as run `run_id` for `ttl`: all or nothing (a partly
    /// locked set is given back).
    pub async fn take_locks(
        &self,
        hosts: &[Host],
        run_id: &str,
        ttl: Duration,
        reason: Option<String>,
        reach: LockReach,
    ) -> Taken {
        let manager = match self.lock_manager() {
            Ok(m) => m,
            Err(e) => {
                return Taken {
                    kept: Vec::new(),
                    failed: vec![e],
                    not_given_back: Vec::new(),
                };
            }
        };
        let results: Vec<_> = stream::iter(hosts.iter())
            .map(|host| {
                let (manager, reason) = (Arc::clone(&manager), reason.clone());
                async move {
                    let transport = self.transport_for(host)?;
                    manager
                        .acquire_with(host, transport, run_id, ttl, reach.connect_timeout, reason)
                        .await
                }
            })
            .buffered(reach.fanout.max(1))
            .collect()
            .await;
        let mut taken = Vec::new();
        let mut failed = Vec::new();
        for r in results {
            match r {
                Ok(lock) => taken.push(lock),
                Err(e) => failed.push(e),
            }
        }
        if failed.is_empty() {
            return Taken {
                kept: taken.into_iter().map(|l| l.keep()).collect(),
                failed,
                not_given_back: Vec::new(),
            };
        }
        let mut not_given_back = Vec::new();
        for lock in taken {
            let host = lock.holder().host.clone();
            if let Err(e) = lock.release().await {
                tracing::warn!(host, error = %e.message, "could not give the lock back");
                not_given_back.push(LockError::new(
                    e.kind,
                    format!("{host}: could not give the lock back: {}", e.message),
                ));
            }
        }
        Taken {
            kept: Vec::new(),
            failed,
            not_given_back,
        }
    }

    /// Releases the locks of `hosts` (ours; anyone's with `force`, each forced release
    /// audited).
    pub async fn release_locks(
        &self,
        hosts: &[Host],
        force: bool,
        reach: LockReach,
    ) -> Vec<(Host, Result<Released, LockError>)> {
        let manager = match self.lock_manager() {
            Ok(m) => m,
            Err(e) => return hosts.iter().map(|h| (h.clone(), Err(e.clone()))).collect(),
        };
        let results: Vec<(Host, Result<Released, LockError>)> = stream::iter(hosts.iter())
            .map(|host| {
                let manager = Arc::clone(&manager);
                async move {
                    let result = match self.transport_for(host) {
                        Ok(t) => {
                            manager
                                .release_host(host, t, force, reach.connect_timeout)
                                .await
                        }
                        Err(e) => Err(e),
                    };
                    (host.clone(), result)
                }
            })
            .buffered(reach.fanout.max(1))
            .collect()
            .await;
        if force {
            for (host, result) in &results {
                self.inner
                    .records
                    .audit(&force_record(manager.owner(), &host.name, result));
            }
        }
        results
    }
}

/// One audit line per forced release: who broke whose lock, and how it went.
fn force_record(who: &str, host: &str, result: &Result<Released, LockError>) -> AuditRecord {
    let previous = match result {
        Ok(r) => r.remote.as_ref().or(r.local.as_ref()).cloned(),
        Err(e) => e.holder.as_deref().cloned(),
    };
    let outcome = match result {
        Ok(_) if previous.is_some() => "ok".to_string(),
        Ok(_) => "none".to_string(),
        Err(e) => format!("failed: {}", e.message),
    };
    AuditRecord::force_unlock(who, host, previous.as_ref(), &outcome)
}
