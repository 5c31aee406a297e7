//! The agent's host locks (`lock` / `unlock` messages): a table in memory, written atomically
//! to `locks.json` in the agent's folder after every change so it survives a restart. Expiry
//! runs by the agent's own clock; expired entries are reclaimed by the next taker.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::config::home::write_private_file;
use crate::protocol::{ErrorCode, Frame, LockInfo, LockStatus, Message};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Locks held at once, at most (a misbehaving console cannot grow the file without bound).
pub const MAX_LOCKS: usize = 4096;
/// Longest lock name, owner, run id or reason accepted, in bytes.
pub const MAX_FIELD: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    owner: String,
    run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// Milliseconds since the Unix epoch, by the agent's clock.
    expires_ms: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    v: u32,
    locks: HashMap<String, Entry>,
}

/// The table, shared by every connection.
#[derive(Debug)]
pub struct LockTable {
    path: PathBuf,
    locks: Mutex<HashMap<String, Entry>>,
}

/// Why a request was refused before it touched the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockRefusal {
    /// A field is empty or too long.
    Malformed(String),
    /// The table is full.
    Busy(String),
    /// The table could not be saved (the change was undone).
    Failed(String),
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn info(e: &Entry, now: u64) -> LockInfo {
    LockInfo {
        owner: e.owner.clone(),
        run_id: e.run_id.clone(),
        remaining_ms: e.expires_ms.saturating_sub(now),
        reason: e.reason.clone(),
    }
}

fn check(what: &str, value: &str) -> Result<(), LockRefusal> {
    if value.is_empty() || value.len() > MAX_FIELD {
        return Err(LockRefusal::Malformed(format!(
            "a lock's {what} has 1 to {MAX_FIELD} bytes"
        )));
    }
    Ok(())
}

impl LockTable {
    /// The table of the agent folder `dir` (`dir/locks.json`; none yet is an empty table).
    pub fn open(dir: &Path) -> Result<Self, String> {
        let path = dir.join("locks.json");
        let locks = match std::fs::read_to_string(&path) {
            Ok(text) => {
                serde_json::from_str::<Stored>(&text)
                    .map_err(|e| {
                        format!(
                            "{}: not a lock table ({e}); move it aside to start with no locks",
                            path.display()
                        )
                    })?
                    .locks
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
        };
        Ok(Self {
            path,
            locks: Mutex::new(locks),
        })
    }

    fn table(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn save(&self, locks: &HashMap<String, Entry>) -> Result<(), LockRefusal> {
        let stored = Stored {
            v: 1,
            locks: locks.clone(),
        };
        let text = serde_json::to_vec(&stored)
            .map_err(|e| LockRefusal::Failed(format!("cannot encode the lock table: {e}")))?;
        write_private_file(&self.path, &text)
            .map_err(|e| LockRefusal::Failed(format!("cannot save the lock table: {e}")))
    }

    /// Takes `name` for `run_id` for `ttl`; renews it if `run_id` holds it already.
    pub fn lock(
        &self,
        name: &str,
        owner: &str,
        run_id: &str,
        ttl: Duration,
        reason: Option<String>,
    ) -> Result<(LockStatus, Option<LockInfo>), LockRefusal> {
        check("name", name)?;
        check("owner", owner)?;
        check("run id", run_id)?;
        if reason.as_ref().is_some_and(|r| r.len() > MAX_FIELD) {
            return Err(LockRefusal::Malformed(format!(
                "a lock's reason has at most {MAX_FIELD} bytes"
            )));
        }
        let now = now_ms();
        let mut locks = self.table();
        let before = locks.clone();
        locks.retain(|k, e| k == name || e.expires_ms > now);
        let (status, previous) = match locks.get(name) {
            Some(e) if e.run_id != run_id && e.expires_ms > now => {
                return Ok((LockStatus::Held, Some(info(e, now))));
            }
            Some(e) if e.run_id != run_id => (LockStatus::Reclaimed, Some(info(e, now))),
            _ => (LockStatus::Taken, None),
        };
        if locks.len() >= MAX_LOCKS && !locks.contains_key(name) {
            *locks = before;
            return Err(LockRefusal::Busy(format!(
                "the agent holds {MAX_LOCKS} locks already"
            )));
        }
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        locks.insert(
            name.to_string(),
            Entry {
                owner: owner.to_string(),
                run_id: run_id.to_string(),
                reason,
                expires_ms: now.saturating_add(ttl_ms),
            },
        );
        if let Err(e) = self.save(&locks) {
            *locks = before;
            return Err(e);
        }
        tracing::info!(lock = %name, %owner, run = %run_id, ?status, "lock taken");
        Ok((status, previous))
    }

    /// Releases `name` if `run_id` holds it, or whoever does with `force`.
    pub fn unlock(
        &self,
        name: &str,
        run_id: &str,
        force: bool,
    ) -> Result<(LockStatus, Option<LockInfo>), LockRefusal> {
        check("name", name)?;
        let now = now_ms();
        let mut locks = self.table();
        let Some(entry) = locks.get(name) else {
            return Ok((LockStatus::None, None));
        };
        if !force && entry.run_id != run_id {
            return Ok((LockStatus::Held, Some(info(entry, now))));
        }
        let before = locks.clone();
        let removed = locks.remove(name).map(|e| info(&e, now));
        if let Err(e) = self.save(&locks) {
            *locks = before;
            return Err(e);
        }
        tracing::info!(lock = %name, run = %run_id, force, "lock released");
        Ok((LockStatus::Released, removed))
    }
}

/// The frame answering a `lock` or `unlock` with job id `id`: `lock_result`, or `error`.
pub fn answer(
    id: &str,
    result: Result<(LockStatus, Option<LockInfo>), LockRefusal>,
) -> Result<WsMessage, WsMessage> {
    let text = |msg: Message| WsMessage::Text(Frame::new(msg).encode().into());
    match result {
        Ok((status, holder)) => Ok(text(Message::LockResult {
            id: id.to_string(),
            status,
            holder,
        })),
        Err(refusal) => {
            let (code, message) = match refusal {
                LockRefusal::Malformed(m) => (ErrorCode::Malformed, m),
                LockRefusal::Busy(m) => (ErrorCode::Busy, m),
                LockRefusal::Failed(m) => (ErrorCode::Failed, m),
            };
            Err(text(Message::Error {
                id: Some(id.to_string()),
                code,
                message,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_refuse_renew_release_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let table = LockTable::open(dir.path()).unwrap();
        let hour = Duration::from_secs(3600);
        let (s, _) = table.lock("web01", "alice@a", "A", hour, None).unwrap();
        assert_eq!(s, LockStatus::Taken);
        let (s, h) = table.lock("web01", "bob@b", "B", hour, None).unwrap();
        assert_eq!(s, LockStatus::Held);
        assert_eq!(h.unwrap().owner, "alice@a");
        assert_eq!(
            table.lock("web01", "alice@a", "A", hour, None).unwrap().0,
            LockStatus::Taken
        );
        assert_eq!(
            table.unlock("web01", "B", false).unwrap().0,
            LockStatus::Held
        );

        let reopened = LockTable::open(dir.path()).unwrap();
        assert_eq!(
            reopened.lock("web01", "bob@b", "B", hour, None).unwrap().0,
            LockStatus::Held
        );
        let (s, h) = reopened.unlock("web01", "B", true).unwrap();
        assert_eq!((s, h.unwrap().run_id.as_str()), (LockStatus::Released, "A"));
        assert_eq!(
            reopened.unlock("web01", "B", true).unwrap().0,
            LockStatus::None
        );
    }

    #[test]
    fn an_expired_lock_is_reclaimed_and_bad_fields_refused() {
        let dir = tempfile::tempdir().unwrap();
        let table = LockTable::open(dir.path()).unwrap();
        table.lock("h", "a@x", "A", Duration::ZERO, None).unwrap();
        let (s, h) = table
            .lock("h", "b@y", "B", Duration::from_secs(60), None)
            .unwrap();
        assert_eq!(
            (s, h.unwrap().run_id.as_str()),
            (LockStatus::Reclaimed, "A")
        );
        assert!(matches!(
            table.lock("", "a", "A", Duration::ZERO, None),
            Err(LockRefusal::Malformed(_))
        ));
        let long = "x".repeat(MAX_FIELD + 1);
        assert!(matches!(
            table.lock("h", &long, "A", Duration::ZERO, None),
            Err(LockRefusal::Malformed(_))
        ));
        std::fs::write(dir.path().join("locks.json"), "{").unwrap();
        let e = LockTable::open(dir.path()).unwrap_err();
        assert!(e.contains("locks.json"), "{e}");
    }
}
