//! Per-host locks for actions with `requires_lock`, and for `fleetdeck locks take`. A lock is
//! held twice: in this home's state (`state/locks/<host>.json`, see `local`), so runs of one
//! console exclude each other without touching the host, and on the host itself (a lock
//! directory through the shell, or the agent's lock table, see `transport::lock`), so consoles
//! on different machines exclude each other too. Both carry the owner (`user@machine`), the run
//! id and an expiry: a process that dies holding locks leaves them to expire, and the next
//! taker reclaims them. TTLs on the host run by the host's clock.

mod local;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::Home;
use crate::config::settings::LockSettings;
use crate::inventory::Host;
use crate::store::rfc3339_millis;
use crate::transport::lock::{LockOp, LockReply, LockRequest, RemoteHolder};
use crate::transport::{ErrorKind, Transport, TransportError};
use local::{LocalLocks, LocalTake};

/// How often a take retries when the host's lock is expired but another console is reclaiming
/// it at that moment (then it is either ours or theirs on the next look).
const RECLAIM_RETRIES: usize = 3;
const RECLAIM_PAUSE: Duration = Duration::from_millis(200);

/// Who holds a lock: what a lock file holds, and what a refusal names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub host: String,
    /// `user@machine`.
    pub owner: String,
    pub run_id: String,
    /// RFC 3339 UTC; unknown for locks read from a host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquired: Option<String>,
    /// RFC 3339 UTC (for a lock read from a host: now plus the time it has left by the
    /// host's clock).
    pub expires: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl LockHolder {
    /// A holder acquiring now, for `ttl`.
    pub fn new(
        host: &str,
        owner: &str,
        run_id: &str,
        ttl: Duration,
        reason: Option<String>,
    ) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            host: host.to_string(),
            owner: owner.to_string(),
            run_id: run_id.to_string(),
            acquired: Some(rfc3339_millis(now)),
            expires: rfc3339_millis(now + ttl),
            reason,
        }
    }

    fn from_remote(host: &str, r: RemoteHolder) -> Self {
        Self {
            host: host.to_string(),
            owner: r.owner,
            run_id: r.run_id,
            acquired: None,
            expires: rfc3339_millis(OffsetDateTime::now_utc() + r.remaining),
            reason: r.reason,
        }
    }

    /// Past its expiry (an unreadable expiry counts as expired: nothing could renew it).
    pub fn is_expired(&self) -> bool {
        OffsetDateTime::parse(&self.expires, &Rfc3339)
            .map_or(true, |t| t <= OffsetDateTime::now_utc())
    }

    /// `12:30:00Z` from the expiry.
    pub fn until(&self) -> String {
        match self.expires.get(11..19) {
            Some(hms) => format!("{hms}Z"),
            None => self.expires.clone(),
        }
    }
}

/// Why a lock could not be taken or released.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LockError {
    /// `Locked` when someone else holds it; otherwise the transport's kind (unreachable
    /// kinds when the host could not be reached, `Io` for local files).
    pub kind: ErrorKind,
    /// Names the host, the holder and what to do.
    pub message: String,
    /// The holder, for `Locked` (boxed: errors stay small).
    pub holder: Option<Box<LockHolder>>,
}

impl LockError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            holder: None,
        }
    }

    /// `web03: locked by alice@laptop (run 01J…) until 12:30:00Z; …`.
    pub fn held(h: &LockHolder) -> Self {
        let why = h
            .reason
            .as_deref()
            .map(|r| format!(" for \"{r}\""))
            .unwrap_or_default();
        Self {
            kind: ErrorKind::Locked,
            message: format!(
                "{host}: locked by {owner} (run {run}){why} until {until}; \
                 `fleetdeck locks release -t {host} --force` to break it",
                host = h.host,
                owner = h.owner,
                run = h.run_id,
                until = h.until(),
            ),
            holder: Some(Box::new(h.clone())),
        }
    }

    fn transport(e: TransportError) -> Self {
        Self::new(e.kind, e.message)
    }
}

/// What a release removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Released {
    /// The local lock file's holder, if there was one.
    pub local: Option<LockHolder>,
    /// The lock removed from the host, if there was one.
    pub remote: Option<LockHolder>,
    /// The host's lock belonged to another run and was left alone (ours had expired and was
    /// reclaimed): only the local file was removed.
    pub remote_kept: Option<LockHolder>,
}

/// Takes and releases per-host locks, locally and on the hosts.
pub struct LockManager {
    local: LocalLocks,
    remote_dir: String,
    owner: String,
    default_ttl: Duration,
}

impl LockManager {
    /// Locks of `home` (files in `state/locks/`), taken as `owner` (`config::current_user()`).
    pub fn new(home: &Home, settings: &LockSettings, owner: String) -> Self {
        Self {
            local: LocalLocks::new(home.state_dir.join("locks")),
            remote_dir: settings.remote_dir.clone(),
            owner,
            default_ttl: settings.ttl.0,
        }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// `[locks] ttl`: for callers that were given none.
    pub fn default_ttl(&self) -> Duration {
        self.default_ttl
    }

    /// Takes `host`'s lock for `run_id`: local state first, then on the host through
    /// `transport`. A refusal on the host gives the local lock back.
    pub async fn acquire(
        &self,
        host: &Host,
        transport: Arc<dyn Transport>,
        run_id: &str,
        ttl: Duration,
        connect_timeout: Duration,
    ) -> Result<HostLock, LockError> {
        self.acquire_with(host, transport, run_id, ttl, connect_timeout, None)
            .await
    }

    /// `acquire`, with a reason shown to whoever is refused.
    pub async fn acquire_with(
        &self,
        host: &Host,
        transport: Arc<dyn Transport>,
        run_id: &str,
        ttl: Duration,
        connect_timeout: Duration,
        reason: Option<String>,
    ) -> Result<HostLock, LockError> {
        let holder = LockHolder::new(&host.name, &self.owner, run_id, ttl, reason.clone());
        match blocking({
            let (local, holder) = (self.local.clone(), holder.clone());
            move || local.take(&holder)
        })
        .await?
        {
            LocalTake::Held(h) => return Err(LockError::held(&h)),
            LocalTake::Reclaimed(old) => {
                tracing::info!(host = %host.name, previous = ?old.as_ref().map(|h| (&h.owner, &h.run_id)), "reclaimed an expired local lock");
            }
            LocalTake::Taken => {}
        }
        let req = LockRequest {
            op: LockOp::Take { ttl },
            name: host.name.clone(),
            owner: self.owner.clone(),
            run_id: run_id.to_string(),
            reason,
            remote_dir: self.remote_dir.clone(),
            connect_timeout,
        };
        let mut reply = transport.lock(host, req.clone()).await;
        for _ in 0..RECLAIM_RETRIES {
            match &reply {
                Ok(LockReply::Held(h)) if h.remaining.is_zero() => {
                    tokio::time::sleep(RECLAIM_PAUSE).await;
                    reply = transport.lock(host, req.clone()).await;
                }
                _ => break,
            }
        }
        let refusal = match reply {
            Ok(LockReply::Taken { reclaimed }) => {
                if let Some(old) = reclaimed {
                    tracing::info!(host = %host.name, owner = %old.owner, run = %old.run_id, "reclaimed an expired lock on the host");
                }
                return Ok(HostLock {
                    host: host.clone(),
                    transport,
                    local: self.local.clone(),
                    remote_dir: self.remote_dir.clone(),
                    holder,
                    ttl,
                    connect_timeout,
                    released: false,
                });
            }
            Ok(LockReply::Held(h)) => LockError::held(&LockHolder::from_remote(&host.name, h)),
            Ok(LockReply::Released(_)) => LockError::new(
                ErrorKind::Protocol,
                format!(
                    "{}: the host answered a lock request with a release",
                    host.name
                ),
            ),
            Err(e) => LockError::transport(e),
        };
        let given_back = blocking({
            let (local, name, run) = (self.local.clone(), host.name.clone(), run_id.to_string());
            move || local.release(&name, Some(&run))
        })
        .await;
        if let Err(e) = given_back {
            tracing::warn!(host = %host.name, "could not give back the local lock: {e}");
        }
        Err(refusal)
    }

    /// Where this home's lock files are.
    pub fn folder(&self) -> &std::path::Path {
        self.local.dir()
    }

    /// Every lock file of this home, by host (unreadable files as errors naming them).
    pub fn list(&self) -> Result<Vec<Result<LockHolder, String>>, LockError> {
        self.local.list()
    }

    /// This home's lock on `host`, if any.
    pub fn local_holder(&self, host: &str) -> Result<Option<LockHolder>, LockError> {
        self.local.read(host)
    }

    /// Releases `host`'s lock: without `force`, only a lock this home holds as this owner
    /// (its run id is in the local file), else refused with `Locked` naming the holder; with
    /// `force`, whoever holds it, here and on the host.
    pub async fn release_host(
        &self,
        host: &Host,
        transport: Arc<dyn Transport>,
        force: bool,
        connect_timeout: Duration,
    ) -> Result<Released, LockError> {
        let mine = blocking({
            let (local, name) = (self.local.clone(), host.name.clone());
            move || local.read(&name)
        })
        .await;
        let mine = match mine {
            Ok(h) => h,
            Err(e) if force => {
                tracing::warn!(host = %host.name, "{e}");
                None
            }
            Err(e) => return Err(e),
        };
        if !force
            && let Some(h) = &mine
            && h.owner != self.owner
        {
            return Err(LockError::held(h));
        }
        let run_id = mine.as_ref().map_or_else(String::new, |h| h.run_id.clone());
        let req = LockRequest {
            op: LockOp::Release { force },
            name: host.name.clone(),
            owner: self.owner.clone(),
            run_id,
            reason: None,
            remote_dir: self.remote_dir.clone(),
            connect_timeout,
        };
        let mut out = Released::default();
        if force {
            out.local = blocking({
                let (local, name) = (self.local.clone(), host.name.clone());
                move || local.release(&name, None)
            })
            .await?;
        }
        match transport
            .lock(host, req)
            .await
            .map_err(LockError::transport)?
        {
            LockReply::Released(removed) => {
                out.remote = removed.map(|r| LockHolder::from_remote(&host.name, r));
            }
            LockReply::Held(h) => {
                let h = LockHolder::from_remote(&host.name, h);
                if mine.is_none() {
                    return Err(LockError::held(&h));
                }
                out.remote_kept = Some(h);
            }
            LockReply::Taken { .. } => {
                return Err(LockError::new(
                    ErrorKind::Protocol,
                    format!("{}: the host answered a release with a take", host.name),
                ));
            }
        }
        if !force && let Some(h) = &mine {
            out.local = blocking({
                let (local, name, run) = (self.local.clone(), host.name.clone(), h.run_id.clone());
                move || local.release(&name, Some(&run))
            })
            .await?;
        }
        Ok(out)
    }
}

/// Runs lock-file work (file writes with fsync, a flock wait) off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, LockError> + Send + 'static,
) -> Result<T, LockError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        Err(LockError::new(
            ErrorKind::Io,
            format!("the lock file task failed: {e}"),
        ))
    })
}

/// A lock held on one host (locally and on the host) until `release`. Dropped without a
/// release, it stays until it expires (a warning is logged).
pub struct HostLock {
    host: Host,
    transport: Arc<dyn Transport>,
    local: LocalLocks,
    remote_dir: String,
    holder: LockHolder,
    ttl: Duration,
    connect_timeout: Duration,
    released: bool,
}

impl HostLock {
    pub fn holder(&self) -> &LockHolder {
        &self.holder
    }

    /// Leaves the lock held until it expires or is released by `fleetdeck locks release`
    /// (`locks take`: held for manual work beyond this process).
    pub fn keep(mut self) -> LockHolder {
        self.released = true;
        self.holder.clone()
    }

    /// How long the lock is taken for, each time it is taken or renewed.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Takes the lock again for a full TTL from now (locally, then on the host), so a run that
    /// outlives its TTL keeps it; the same run id renews what it holds. If another run took it
    /// over meanwhile (ours had expired), that is the error.
    pub async fn renew(&mut self) -> Result<(), LockError> {
        let holder = LockHolder::new(
            &self.host.name,
            &self.holder.owner,
            &self.holder.run_id,
            self.ttl,
            self.holder.reason.clone(),
        );
        if let LocalTake::Held(h) = blocking({
            let (local, holder) = (self.local.clone(), holder.clone());
            move || local.take(&holder)
        })
        .await?
        {
            return Err(LockError::held(&h));
        }
        let req = LockRequest {
            op: LockOp::Take { ttl: self.ttl },
            name: self.host.name.clone(),
            owner: self.holder.owner.clone(),
            run_id: self.holder.run_id.clone(),
            reason: self.holder.reason.clone(),
            remote_dir: self.remote_dir.clone(),
            connect_timeout: self.connect_timeout,
        };
        match self.transport.lock(&self.host, req).await {
            Ok(LockReply::Taken { .. }) => {
                self.holder = holder;
                Ok(())
            }
            Ok(LockReply::Held(h)) => Err(LockError::held(&LockHolder::from_remote(
                &self.host.name,
                h,
            ))),
            Ok(LockReply::Released(_)) => Err(LockError::new(
                ErrorKind::Protocol,
                format!(
                    "{}: the host answered a lock renewal with a release",
                    self.host.name
                ),
            )),
            Err(e) => Err(LockError::new(e.kind, e.message)),
        }
    }

    /// Gives the lock back: on the host first, then locally. The local lock is removed even
    /// when the host cannot be reached (its lock there then expires by itself); that failure
    /// is still returned.
    pub async fn release(mut self) -> Result<(), LockError> {
        self.released = true;
        let req = LockRequest {
            op: LockOp::Release { force: false },
            name: self.host.name.clone(),
            owner: self.holder.owner.clone(),
            run_id: self.holder.run_id.clone(),
            reason: None,
            remote_dir: self.remote_dir.clone(),
            connect_timeout: self.connect_timeout,
        };
        let remote = match self.transport.lock(&self.host, req).await {
            Ok(LockReply::Held(other)) => {
                tracing::warn!(host = %self.host.name, owner = %other.owner, run = %other.run_id, "our lock on the host had expired and was taken over");
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => Err(LockError::new(
                e.kind,
                format!(
                    "{}; the lock on the host expires at {}",
                    e.message, self.holder.expires
                ),
            )),
        };
        let local = blocking({
            let (local, name, run) = (
                self.local.clone(),
                self.host.name.clone(),
                self.holder.run_id.clone(),
            );
            move || local.release(&name, Some(&run))
        })
        .await;
        let local = match local {
            Ok(_) => Ok(()),
            // Ours had expired and another run of this home reclaimed it: nothing to give back.
            Err(e) if e.kind == ErrorKind::Locked => {
                tracing::warn!(host = %self.host.name, "{e}");
                Ok(())
            }
            Err(e) => Err(e),
        };
        remote.and(local)
    }
}

impl Drop for HostLock {
    fn drop(&mut self) {
        if !self.released {
            tracing::warn!(host = %self.host.name, run = %self.holder.run_id, expires = %self.holder.expires, "a host lock was dropped without release; it stays until it expires");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_host_holder_run_expiry_and_the_way_out() {
        let mut h = LockHolder::new(
            "web03",
            "alice@laptop",
            "01JRUN",
            Duration::from_secs(60),
            None,
        );
        h.expires = "2020-01-02T12:30:00.000Z".into();
        let e = LockError::held(&h);
        assert_eq!(e.kind, ErrorKind::Locked);
        assert_eq!(
            e.message,
            "web03: locked by alice@laptop (run 01JRUN) until 12:30:00Z; \
             `fleetdeck locks release -t web03 --force` to break it"
        );
        assert!(h.is_expired());
        assert!(!LockHolder::new("a", "b", "c", Duration::from_secs(60), None).is_expired());
    }
}
