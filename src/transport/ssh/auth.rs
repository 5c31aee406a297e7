//! Public-key authentication, in OpenSSH's order: ssh-agent keys first (unless IdentitiesOnly
//! limits them to the configured files), then each IdentityFile. Encrypted key files are
//! decrypted with a passphrase asked once per file through the caller's callback; without one
//! they give an error that names the file and says what to do. Decrypted keys stay in memory
//! for the transport's lifetime, so a fleet of hundreds of hosts costs one decryption.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::MethodKind;
use russh::client::{AuthResult, Handle};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};
use tokio::time::{Instant, timeout_at};

use super::super::{ErrorKind, TransportError};
use super::config::ResolvedHost;
use super::handler::ClientHandler;

/// Asks for the passphrase of a key file (interactive front ends only); `None` declines.
pub type PassphraseFn = Arc<dyn Fn(&Path) -> Option<String> + Send + Sync>;

/// Agent keys tried at most (servers allow ~6 attempts anyway; MaxAuthTries).
const MAX_AGENT_KEYS: usize = 16;
/// IdentityFile entries tried at most.
const MAX_KEY_FILES: usize = 32;

/// A key file's state, remembered so the passphrase is asked once and decryption runs once.
#[derive(Clone)]
enum Loaded {
    Key(Arc<PrivateKey>),
    /// Encrypted, and no passphrase can be asked.
    Encrypted,
    /// Unusable; the reason (wrong passphrase, corrupt file, declined prompt).
    Failed(String),
}

/// Decrypted keys and failures per key file, shared by every connection of a transport.
pub struct KeyStore {
    passphrase: Option<PassphraseFn>,
    keys: tokio::sync::Mutex<HashMap<PathBuf, Loaded>>,
}

impl KeyStore {
    pub fn new(passphrase: Option<PassphraseFn>) -> Self {
        Self {
            passphrase,
            keys: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The key in `path`, or why not; `None` when the file does not exist. Holding the lock
    /// while asking makes concurrent connections wait for one answer instead of asking again.
    async fn load(&self, path: &Path) -> Option<Loaded> {
        let mut keys = self.keys.lock().await;
        if let Some(known) = keys.get(path) {
            return Some(known.clone());
        }
        if !path.exists() {
            return None;
        }
        let loaded = match read_key(path, None).await {
            Ok(key) => Loaded::Key(Arc::new(key)),
            Err(russh::keys::Error::KeyIsEncrypted) => self.decrypt(path).await,
            Err(e) => Loaded::Failed(format!("cannot read it: {e}")),
        };
        keys.insert(path.to_path_buf(), loaded.clone());
        Some(loaded)
    }

    async fn decrypt(&self, path: &Path) -> Loaded {
        let Some(ask) = self.passphrase.clone() else {
            return Loaded::Encrypted;
        };
        let owned = path.to_path_buf();
        let answer = tokio::task::spawn_blocking(move || ask(&owned)).await;
        let Ok(Some(passphrase)) = answer else {
            return Loaded::Failed("it is encrypted and no passphrase was given".into());
        };
        match read_key(path, Some(passphrase)).await {
            Ok(key) => Loaded::Key(Arc::new(key)),
            Err(e) => Loaded::Failed(format!(
                "it could not be decrypted (wrong passphrase?): {e}"
            )),
        }
    }
}

/// Reads and decodes a key file off the async threads (decryption runs bcrypt: CPU-heavy).
async fn read_key(
    path: &Path,
    passphrase: Option<String>,
) -> Result<PrivateKey, russh::keys::Error> {
    let owned = path.to_path_buf();
    tokio::task::spawn_blocking(move || russh::keys::load_secret_key(&owned, passphrase.as_deref()))
        .await
        .unwrap_or(Err(russh::keys::Error::CouldNotReadKey))
}

/// One authentication, with what was tried for the error message.
struct Attempt<'a> {
    handle: &'a mut Handle<ClientHandler>,
    user: String,
    label: &'a str,
    deadline: Instant,
    tried: Vec<String>,
    offered: Vec<PublicKey>,
    /// The server still takes public keys (it lists remaining methods after each failure).
    publickey_open: bool,
    rsa_hash: Option<Option<HashAlg>>,
}

/// Authenticates `handle` as `r.user`. Network steps share `deadline`; time spent waiting for
/// a passphrase prompt is added to it (a person typing is not a slow host).
pub async fn authenticate(
    handle: &mut Handle<ClientHandler>,
    r: &ResolvedHost,
    keys: &KeyStore,
    label: &str,
    deadline: Instant,
) -> Result<(), TransportError> {
    let mut a = Attempt {
        handle,
        user: r.user.clone(),
        label,
        deadline,
        tried: Vec::new(),
        offered: Vec::new(),
        publickey_open: true,
        rsa_hash: None,
    };
    let file_pubkeys = if r.identities_only {
        Some(public_keys_of(&r.identity_files))
    } else {
        None
    };
    if let Some(sock) = &r.identity_agent
        && a.try_agent(sock, file_pubkeys.as_deref()).await?
    {
        return Ok(());
    }
    let mut encrypted = Vec::new();
    for path in r.identity_files.iter().take(MAX_KEY_FILES) {
        if !a.publickey_open {
            break;
        }
        let started = Instant::now();
        let loaded = keys.load(path).await;
        a.deadline += started.elapsed();
        match loaded {
            None => a.tried.push(format!("{} (not found)", path.display())),
            Some(Loaded::Encrypted) => {
                a.tried
                    .push(format!("{} (encrypted, no passphrase)", path.display()));
                encrypted.push(path.display().to_string());
            }
            Some(Loaded::Failed(why)) => a.tried.push(format!("{} ({why})", path.display())),
            Some(Loaded::Key(key)) => {
                if a.try_key_file(path, key).await? {
                    return Ok(());
                }
            }
        }
    }
    Err(a.failure(&encrypted))
}

impl Attempt<'_> {
    fn timed_out(&self, step: &str) -> TransportError {
        TransportError::new(
            ErrorKind::Timeout,
            format!("{}: timed out during authentication ({step})", self.label),
        )
    }

    /// Tries the agent's keys; true on success. An unreachable agent is noted, not fatal.
    async fn try_agent(
        &mut self,
        sock: &Path,
        only: Option<&[PublicKey]>,
    ) -> Result<bool, TransportError> {
        let connected = timeout_at(self.deadline, AgentClient::connect_uds(sock)).await;
        let mut agent = match connected {
            Err(_) => return Err(self.timed_out("connecting to ssh-agent")),
            Ok(Err(e)) => {
                self.tried.push(format!(
                    "ssh-agent at {} (unreachable: {e})",
                    sock.display()
                ));
                return Ok(false);
            }
            Ok(Ok(agent)) => agent,
        };
        let identities = match timeout_at(self.deadline, agent.request_identities()).await {
            Err(_) => return Err(self.timed_out("listing ssh-agent keys")),
            Ok(Err(e)) => {
                self.tried
                    .push(format!("ssh-agent at {} (error: {e})", sock.display()));
                return Ok(false);
            }
            Ok(Ok(ids)) => ids,
        };
        let keys: Vec<PublicKey> = identities
            .into_iter()
            .filter_map(|id| match id {
                AgentIdentity::PublicKey { key, .. } => Some(key),
                AgentIdentity::Certificate { .. } => None,
            })
            .filter(|k| only.is_none_or(|allowed| allowed.iter().any(|a| same_key(a, k))))
            .take(MAX_AGENT_KEYS)
            .collect();
        if keys.is_empty() {
            self.tried
                .push(format!("ssh-agent at {} (no usable keys)", sock.display()));
            return Ok(false);
        }
        for key in keys {
            if !self.publickey_open {
                break;
            }
            let hash = self.hash_for(&key).await?;
            tracing::debug!(host = %self.label, key = %key.algorithm().as_str(), "trying ssh-agent key");
            self.offered.push(key.clone());
            let user = self.user.clone();
            let result = timeout_at(
                self.deadline,
                self.handle
                    .authenticate_publickey_with(user, key.clone(), hash, &mut agent),
            )
            .await;
            match result {
                Err(_) => return Err(self.timed_out("ssh-agent signature")),
                Ok(Ok(AuthResult::Success)) => {
                    tracing::debug!(host = %self.label, "authenticated with an ssh-agent key");
                    return Ok(true);
                }
                Ok(Ok(AuthResult::Failure {
                    remaining_methods, ..
                })) => {
                    self.publickey_open = remaining_methods.contains(&MethodKind::PublicKey);
                    self.tried
                        .push(format!("ssh-agent key {} (refused)", fingerprint_of(&key)));
                }
                Ok(Err(e)) => self.tried.push(format!(
                    "ssh-agent key {} (agent error: {e})",
                    fingerprint_of(&key)
                )),
            }
        }
        Ok(false)
    }

    async fn try_key_file(
        &mut self,
        path: &Path,
        key: Arc<PrivateKey>,
    ) -> Result<bool, TransportError> {
        let public = key.public_key().clone();
        if self.offered.iter().any(|k| same_key(k, &public)) {
            self.tried
                .push(format!("{} (same key as the agent's)", path.display()));
            return Ok(false);
        }
        self.offered.push(public.clone());
        let hash = self.hash_for(&public).await?;
        tracing::debug!(host = %self.label, file = %path.display(), "trying key file");
        let user = self.user.clone();
        let result = timeout_at(
            self.deadline,
            self.handle
                .authenticate_publickey(user, PrivateKeyWithHashAlg::new(key, hash)),
        )
        .await;
        match result {
            Err(_) => Err(self.timed_out("public key")),
            Ok(Ok(AuthResult::Success)) => {
                tracing::debug!(host = %self.label, file = %path.display(), "authenticated with a key file");
                Ok(true)
            }
            Ok(Ok(AuthResult::Failure {
                remaining_methods, ..
            })) => {
                self.publickey_open = remaining_methods.contains(&MethodKind::PublicKey);
                self.tried.push(format!("{} (refused)", path.display()));
                Ok(false)
            }
            Ok(Err(e)) => Err(TransportError::new(
                ErrorKind::Protocol,
                format!(
                    "{}: the connection failed during authentication: {e}",
                    self.label
                ),
            )),
        }
    }

    /// RSA keys sign with the best SHA-2 the server lists (plain `ssh-rsa` is SHA-1, refused
    /// by modern servers); asked once per connection, only when an RSA key comes up.
    async fn hash_for(&mut self, key: &PublicKey) -> Result<Option<HashAlg>, TransportError> {
        if !key.algorithm().is_rsa() {
            return Ok(None);
        }
        if let Some(known) = self.rsa_hash {
            return Ok(known);
        }
        let best = match timeout_at(self.deadline, self.handle.best_supported_rsa_hash()).await {
            Err(_) => return Err(self.timed_out("server signature algorithms")),
            Ok(Ok(Some(hash))) => hash,
            // No server-sig-algs extension: OpenSSH falls back to ssh-rsa too.
            Ok(Ok(None)) | Ok(Err(_)) => None,
        };
        self.rsa_hash = Some(best);
        Ok(best)
    }

    fn failure(&self, encrypted: &[String]) -> TransportError {
        let tried = if self.tried.is_empty() {
            "nothing (no ssh-agent and no IdentityFile)".to_string()
        } else {
            self.tried.join(", ")
        };
        let hint = if encrypted.is_empty() && self.offered.is_empty() {
            "No key could be offered: name an existing key with IdentityFile, or add your key \
             to ssh-agent (ssh-add)."
                .to_string()
        } else if encrypted.is_empty() {
            format!(
                "Check that one of these public keys is in ~{}/.ssh/authorized_keys on the \
                 host, or load the right key into ssh-agent (ssh-add).",
                self.user
            )
        } else {
            format!(
                "The key file {} is encrypted and fleetdeck cannot ask for its passphrase here \
                 (not interactive): load it into ssh-agent first (ssh-add {}), or run \
                 interactively.",
                encrypted.join(", "),
                encrypted[0]
            )
        };
        TransportError::new(
            ErrorKind::Auth,
            format!(
                "{}: authentication as `{}` failed; tried: {tried}. {hint}",
                self.label, self.user
            ),
        )
    }
}

/// Public halves of the identity files (`FILE.pub`), for IdentitiesOnly agent filtering.
fn public_keys_of(files: &[PathBuf]) -> Vec<PublicKey> {
    files
        .iter()
        .take(MAX_KEY_FILES)
        .filter_map(|f| {
            let mut pub_path = f.clone().into_os_string();
            pub_path.push(".pub");
            russh::keys::load_public_key(PathBuf::from(pub_path)).ok()
        })
        .collect()
}

fn same_key(a: &PublicKey, b: &PublicKey) -> bool {
    a.key_data() == b.key_data()
}

fn fingerprint_of(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn missing_files_are_not_cached_as_failures() {
        let store = KeyStore::new(None);
        let dir = tempfile::tempdir().unwrap();
        assert!(store.load(&dir.path().join("id_none")).await.is_none());
    }

    #[tokio::test]
    async fn passphrase_is_asked_once_per_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id_enc");
        let status = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "pw-123", "-f"])
            .arg(&key)
            .status()
            .unwrap();
        assert!(status.success());
        let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = asked.clone();
        let store = KeyStore::new(Some(Arc::new(move |_: &Path| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Some("pw-123".to_string())
        })));
        for _ in 0..3 {
            assert!(matches!(store.load(&key).await, Some(Loaded::Key(_))));
        }
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1);

        let refusing = KeyStore::new(None);
        assert!(matches!(refusing.load(&key).await, Some(Loaded::Encrypted)));
    }
}
